"""The member record shows each service only its categories, masked; viewing it is audited."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.tags import BackofficeTag
from mutualis.backoffice.testing import page_text, visible_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban

pytestmark = pytest.mark.django_db

ADMINISTRATIVE = "Données administratives"
BANK = "Mandats de prélèvement SEPA"
ACCOUNT = "Compte de l'espace adhérent"


def _record(client, member):
    return client.get(reverse("backoffice:member_detail", args=[member.pk]))


def test_cotisations_sees_the_masked_iban_but_no_nir(as_staff, colin, alice):
    response = _record(as_staff(colin), alice)
    text = page_text(response)
    assert BANK in text and alice.mandates.get().masked_iban in text
    assert "Afficher l'IBAN" in text
    assert ADMINISTRATIVE not in text
    assert alice.person.masked_nir not in text
    assert "Afficher le numéro" not in text
    assert_no_full_nir_or_iban(response, alice)


def test_gestion_sees_the_masked_nir_but_no_iban(as_staff, gina, alice):
    response = _record(as_staff(gina), alice)
    text = page_text(response)
    assert ADMINISTRATIVE in text and alice.person.masked_nir in text
    assert alice.person.scheme_code in text
    assert "Afficher le numéro" in text
    assert BANK not in text
    assert alice.mandates.get().masked_iban not in text
    assert "Afficher l'IBAN" not in text
    assert_no_full_nir_or_iban(response, alice)


def test_relation_adherent_sees_neither_bank_nor_administrative_data(as_staff, charlie, alice):
    response = _record(as_staff(charlie), alice)
    text = page_text(response)
    assert "Coordonnées" in text and alice.person.email in text
    assert "Contrats" in text
    for hidden in (ADMINISTRATIVE, BANK, ACCOUNT, "Afficher"):
        assert hidden not in text
    assert alice.person.masked_nir not in text
    assert alice.mandates.get().masked_iban not in text


def test_the_dpo_sees_every_category_masked(as_staff, bob, alice):
    response = _record(as_staff(bob), alice)
    text = page_text(response)
    for section in ("Identité", "Coordonnées", ADMINISTRATIVE, "Bénéficiaires", "Contrats", BANK):
        assert section in text
    assert ACCOUNT in text and alice.account.email in text
    assert alice.person.masked_nir in text and alice.mandates.get().masked_iban in text
    assert "Afficher le numéro" in text and "Afficher l'IBAN" in text
    assert_no_full_nir_or_iban(response, alice)


def test_beneficiaries_and_contracts_are_listed(as_staff, charlie, alice):
    text = page_text(_record(as_staff(charlie), alice))
    child = alice.beneficiaries.get().person
    assert child.full_name in text
    assert alice.contracts.get().number in text


def test_a_child_attached_to_a_parent_nir_has_nothing_to_reveal(as_staff, gina, alice):
    text = page_text(_record(as_staff(gina), alice))
    assert "rattaché au NIR d'un parent" in text
    assert text.count("Afficher le numéro") == 1  # the member's own NIR only


def test_viewing_a_record_is_audited(as_staff, gina, alice):
    _record(as_staff(gina), alice)
    event = Event.objects.get(tag=BackofficeTag.MEMBER_VIEW)
    assert event.actor == f"user:{gina.pk}"
    assert event.subject_id == str(alice.person_id)
    assert event.target == f"members.member:{alice.pk}"
    assert event.details["categories"] == sorted(
        ["identity", "contact", "administrative", "contract", "correspondence"]
    )


def test_an_unknown_member_is_not_found(as_staff, gina, alice):
    response = as_staff(gina).get(reverse("backoffice:member_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert not Event.objects.filter(tag=BackofficeTag.MEMBER_VIEW).exists()


def test_the_banner_names_the_staff_member_and_service(as_staff, colin, alice):
    text = visible_text(_record(as_staff(colin), alice))
    assert "Connecté(e) : colin@mutuelle.example — service Cotisations" in text
    assert "Se déconnecter" in text


def test_archived_contracts_and_mandates_are_shown_to_the_dpo_only(alice, bob, staff):
    from django.utils import timezone

    from mutualis.backoffice.members.record import build_record

    alice.contracts.update(archived_at=timezone.now())
    alice.mandates.update(archived_at=timezone.now())
    gestion = staff("gestion")
    cotisations = staff("cotisations")
    assert build_record(alice, user=gestion).contracts == []
    assert build_record(alice, user=cotisations).mandates == []
    dpo_view = build_record(alice, user=bob)
    assert len(dpo_view.contracts) == 1 and len(dpo_view.mandates) == 1
