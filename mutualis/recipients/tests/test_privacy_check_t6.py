"""privacy_check T6: recipients receive only what the declaration grants them, and every API
answer about a person has its disclosure."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from mutualis import audit
from mutualis.audit.models import Disclosure
from mutualis.audit.tags import AuditTag
from mutualis.partners.tests.helpers import body_for, check
from mutualis.privacy import catalogue, promises
from mutualis.recipients.models import CheckOutcome, RightsCheck

pytestmark = pytest.mark.django_db


def _privacy_check() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("privacy_check", stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


def _t6() -> list[str]:
    return [breach for result in promises.run(only=["T6"]) for breach in result.breaches]


def test_a_real_answer_keeps_privacy_check_clean(client, alice, pharmacy_key):
    assert check(client, pharmacy_key, body_for(alice.person)).json()["statut"] == "couvert"
    assert Disclosure.objects.count() == 1
    assert _t6() == []


def test_a_forged_disclosure_of_categories_not_granted_fails_t6_and_is_named(alice):
    """record_disclosure refuses it; written behind its back, privacy_check finds it."""
    with transaction.atomic():
        event = audit.record(AuditTag.DISCLOSURE_CREATE, subject=alice.person)
        forged = Disclosure.objects.create(
            recipient=catalogue.HEALTH_PROFESSIONALS.code,
            subject_id=str(alice.person_id),
            categories=["bank", "contract"],
            reason="forgé",
            actor="system",
            event=event,
        )
    code, output = _privacy_check()
    assert code == 1
    assert "MANQUEMENT T6 — " in output
    assert f"communication n° {forged.pk}" in output and "bank" in output


def test_an_unknown_recipient_fails_t6(alice):
    with transaction.atomic():
        event = audit.record(AuditTag.DISCLOSURE_CREATE, subject=alice.person)
        Disclosure.objects.create(
            recipient="assureur_tiers",
            subject_id=str(alice.person_id),
            categories=["identity"],
            reason="forgé",
            actor="system",
            event=event,
        )
    assert any("destinataire inconnu" in text for text in _t6())


def test_an_answer_about_a_person_without_its_disclosure_fails_t6(
    client, alice, pharmacy, pharmacy_key
):
    answer = check(client, pharmacy_key, body_for(alice.person)).json()
    RightsCheck.objects.filter(pk=answer["reference"]).update(disclosure=None)
    breaches = _t6()
    assert len(breaches) == 1 and answer["reference"] in breaches[0]


def test_an_answer_that_disclosed_nothing_needs_no_disclosure(client, alice, pharmacy_key):
    body = {**body_for(alice.person), "date_naissance": "1950-01-01"}  # no one is born then
    assert check(client, pharmacy_key, body).json()["statut"] == "inconnu"
    assert RightsCheck.objects.get().outcome == CheckOutcome.UNKNOWN
    assert not Disclosure.objects.exists()
    assert _t6() == []
