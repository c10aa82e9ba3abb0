"""The system check catches every drift between the models and the declaration."""

from __future__ import annotations

import dataclasses

from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from mutualis.privacy import catalogue
from mutualis.privacy.checks import check_declaration, model_problems, purpose_problems
from mutualis.privacy.declaration import ModelDeclaration, personal


def _ids(messages) -> list[str]:
    return [m.id for m in messages]


@isolate_apps("mutualis.privacy")
def test_it_reports_a_field_that_is_not_declared():
    class Prospect(models.Model):
        last_name = models.CharField(max_length=100)
        phone = models.CharField(max_length=20)

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Prospect",
        fields={"last_name": personal(catalogue.IDENTITY, [catalogue.INQUIRIES], provided=True)},
        module="tests",
    )
    problems = model_problems(Prospect, declaration)
    assert _ids(problems) == ["privacy.E002"]
    assert "privacy.Prospect.phone is not declared" in problems[0].msg


@isolate_apps("mutualis.privacy")
def test_it_reports_a_model_that_is_not_declared_at_all():
    class Lead(models.Model):
        email = models.EmailField()

        class Meta:
            app_label = "privacy"

    assert _ids(model_problems(Lead, None)) == ["privacy.E001"]


@isolate_apps("mutualis.privacy")
def test_it_reports_a_declared_field_that_no_longer_exists():
    class Prospect(models.Model):
        last_name = models.CharField(max_length=100)

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Prospect",
        fields={
            "last_name": personal(catalogue.IDENTITY, [catalogue.INQUIRIES], provided=True),
            "fax": personal(catalogue.CONTACT, [catalogue.INQUIRIES], provided=True),
        },
        module="tests",
    )
    problems = model_problems(Prospect, declaration)
    assert _ids(problems) == ["privacy.E003"]
    assert "fax" in problems[0].msg


@isolate_apps("mutualis.privacy")
def test_a_field_explicitly_declared_not_personal_passes():
    class Offer(models.Model):
        name = models.CharField(max_length=100)
        owner_email = models.EmailField()

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Offer",
        fields={"owner_email": personal(catalogue.CONTACT, [catalogue.CONTRACT], provided=True)},
        not_personal=frozenset({"name"}),
        module="tests",
    )
    assert model_problems(Offer, declaration) == []


@isolate_apps("mutualis.privacy")
def test_it_reports_a_category_foreign_to_the_purpose():
    class Prospect(models.Model):
        iban = models.CharField(max_length=34)

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Prospect",
        fields={"iban": personal(catalogue.BANK, [catalogue.INQUIRIES], provided=True)},
        module="tests",
    )
    assert _ids(model_problems(Prospect, declaration)) == ["privacy.E007"]


@isolate_apps("mutualis.privacy")
def test_it_reports_a_sensitive_field_declared_encrypted_but_stored_in_clear():
    class Person(models.Model):
        nir = models.CharField(max_length=15)

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Person",
        fields={
            "nir": personal(
                catalogue.ADMINISTRATIVE, [catalogue.CONTRACT], provided=True, encrypted=True
            )
        },
        module="tests",
    )
    assert _ids(model_problems(Person, declaration)) == ["privacy.E006"]


@isolate_apps("mutualis.privacy")
def test_it_reports_a_retention_anchor_that_names_no_field():
    class Letter(models.Model):
        received_on = models.DateField()

        class Meta:
            app_label = "privacy"

    declaration = ModelDeclaration(
        model="privacy.Letter",
        not_personal=frozenset({"received_on"}),
        retention_anchor="received_at",
        module="tests",
    )
    assert _ids(model_problems(Letter, declaration)) == ["privacy.E008"]


def test_it_reports_a_purpose_without_legal_basis_or_retention():
    orphan = dataclasses.replace(catalogue.INQUIRIES, code="orphan", legal_basis=None)
    unkept = dataclasses.replace(catalogue.INQUIRIES, code="unkept", retention=None)
    problems = purpose_problems([orphan, unkept])
    assert _ids(problems) == ["privacy.E005", "privacy.E005"]
    assert "'orphan' has no legal basis" in problems[0].msg
    assert "'unkept' has no retention rule" in problems[1].msg


def test_every_catalogue_purpose_has_a_legal_basis_and_a_retention_rule():
    assert purpose_problems(catalogue.ALL_PURPOSES) == []


def test_the_project_declaration_is_complete():
    assert check_declaration() == []
    call_command("check", "--fail-level", "ERROR")
