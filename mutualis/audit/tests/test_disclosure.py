from __future__ import annotations

import pytest
from django.db import transaction

from mutualis import audit
from mutualis.audit.models import Disclosure, Event
from mutualis.audit.services import DisclosureNotAllowed
from mutualis.audit.tags import AuditTag
from mutualis.privacy import catalogue as c


def test_a_disclosure_is_registered_with_its_audit_event(alice, bob):
    disclosure = audit.record_disclosure(
        recipient=c.MANDATORY_SCHEMES,
        subject=alice,
        categories=[c.IDENTITY, "administrative"],
        reason="Télétransmission des remboursements (contrat, RGPD art. 6(1)(b))",
        actor=bob,
    )

    stored = Disclosure.objects.get()
    assert stored.pk == disclosure.pk
    assert (stored.recipient, stored.subject_id, stored.actor) == (
        "mandatory_schemes",
        str(alice.pk),
        f"user:{bob.pk}",
    )
    assert stored.categories == ["administrative", "identity"]
    event = Event.objects.get()
    assert stored.event == event
    assert event.tag == AuditTag.DISCLOSURE_CREATE
    assert event.subject_id == str(alice.pk)
    assert event.details == {
        "recipient": "mandatory_schemes",
        "categories": ["administrative", "identity"],
    }
    assert event.at == stored.at


def test_it_refuses_categories_the_declaration_does_not_grant_the_recipient(alice, bob):
    with pytest.raises(DisclosureNotAllowed, match="bank"):
        audit.record_disclosure(
            recipient="health_professionals",
            subject=alice,
            categories=[c.IDENTITY, c.BANK],
            reason="Vérification des droits au tiers payant",
            actor=bob,
        )
    assert not Disclosure.objects.exists()
    assert not Event.objects.exists()


def test_it_refuses_an_unknown_recipient(alice, bob):
    with pytest.raises(DisclosureNotAllowed, match="unknown recipient"):
        audit.record_disclosure(
            recipient="data_broker",
            subject=alice,
            categories=[c.IDENTITY],
            reason="Aucune",
            actor=bob,
        )


def test_a_disclosure_and_its_event_roll_back_together(alice, bob):
    with pytest.raises(RuntimeError, match="sending failed"), transaction.atomic():
        audit.record_disclosure(
            recipient=c.AUTHORITIES,
            subject=alice,
            categories=[c.IDENTITY, c.CONTACT],
            reason="Réquisition judiciaire",
            actor=bob,
        )
        raise RuntimeError("sending failed")
    assert not Disclosure.objects.exists()
    assert not Event.objects.exists()
