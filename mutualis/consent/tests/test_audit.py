"""Every consent write is audited in its transaction, and the audit names people by id only."""

from __future__ import annotations

import json

import pytest

from mutualis.audit.models import Event
from mutualis.consent import services
from mutualis.consent.models import ConsentEvent, MarketingObjection, Source
from mutualis.consent.tags import ConsentTag

pytestmark = pytest.mark.django_db


def _consent_events():
    return Event.objects.filter(tag__startswith="consent:").order_by("id")


def _personal_values(member) -> list[str]:
    person = member.person
    values = [
        person.first_names,
        person.last_name,
        person.email,
        person.address_line1,
        person.postal_code,
        person.city,
        person.phone_mobile,
        person.nir,
        str(person.birth_date),
        member.number,
    ]
    return [v for v in values if v]


def test_every_write_is_audited_without_personal_values(alice, bob):
    person = alice.person
    services.grant(
        person=person,
        topic="offers",
        channel="email",
        source=Source.PHONE,
        actor=bob,
    )
    services.withdraw(person=person, topic="offers", channel="email", source=Source.PHONE)
    services.grant(person=person, topic="surveys", channel="sms", source=Source.SUBSCRIPTION)
    services.grant(person=person, topic="offers", channel="post", source=Source.SUBSCRIPTION)
    services.object_to_marketing(person=person, source=Source.LETTER)
    services.grant(
        person=person,
        topic="offers",
        channel="sms",
        source=Source.MEMBER_SPACE,
        actor=alice.account,
    )
    services.withdraw_all(person=person, source=Source.RIGHTS_REQUEST)

    events = list(_consent_events())
    assert [e.tag for e in events] == [
        ConsentTag.CONSENT_GRANT,
        ConsentTag.CONSENT_WITHDRAW,
        ConsentTag.CONSENT_GRANT,
        ConsentTag.CONSENT_GRANT,
        ConsentTag.CONSENT_WITHDRAW,  # offers/post, by the objection
        ConsentTag.OBJECTION_CREATE,
        ConsentTag.OBJECTION_LIFT,
        ConsentTag.CONSENT_GRANT,
        ConsentTag.CONSENT_WITHDRAW,  # withdraw_all: offers/sms and surveys/sms
        ConsentTag.CONSENT_WITHDRAW,
    ]
    assert {e.subject_id for e in events} == {str(person.pk)}
    assert events[0].actor == f"user:{bob.pk}"
    assert events[0].details == {
        "topic": "offers",
        "channel": "email",
        "source": "phone",
        "notice": "offers-v1",
    }
    consent_ids = {
        f"consent.consentevent:{pk}" for pk in ConsentEvent.objects.values_list("pk", flat=True)
    }
    objection = MarketingObjection.objects.get()
    assert {e.target for e in events} == consent_ids | {
        f"consent.marketingobjection:{objection.pk}"
    }
    dumped = json.dumps([[e.details, e.target, e.actor] for e in events], ensure_ascii=False)
    for value in _personal_values(alice):
        assert value not in dumped
    assert "accepte" not in dumped  # the notice is named by its version, never copied


def test_no_audit_no_write(alice):
    """The audit entry is never optional: when it cannot be written, nothing is."""
    with pytest.raises(ValueError):
        services.grant(
            person=alice.person,
            topic="offers",
            channel="email",
            source=Source.PHONE,
            actor="not an actor id!",
        )
    assert not ConsentEvent.objects.exists()
    assert not services.current_preferences(alice.person)[("offers", "email")]


def test_the_audit_chain_still_verifies(alice):
    from mutualis.audit.verify import verify_chain

    services.grant(person=alice.person, topic="offers", channel="sms", source=Source.LETTER)
    services.object_to_marketing(person=alice.person, source=Source.LETTER)
    assert verify_chain().ok
