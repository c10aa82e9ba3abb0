"""Objection to direct marketing (GDPR art. 21(2), policy section 5 right 4): absolute, at once.

Decision tested here: while an objection is in force, a marketing grant is refused, except the
person's own explicit consent in the member space, which lifts the objection.
"""

from __future__ import annotations

import pytest

from mutualis.consent import services
from mutualis.consent.models import (
    Action,
    Channel,
    ConsentEvent,
    MarketingObjection,
    Preference,
    Source,
    Topic,
)

pytestmark = pytest.mark.django_db


def _grant(person, topic, channel, source=Source.SUBSCRIPTION, actor=None):
    return services.grant(person=person, topic=topic, channel=channel, source=source, actor=actor)


def test_an_objection_withdraws_every_marketing_consent_at_once(alice):
    person = alice.person
    _grant(person, Topic.NEWSLETTER, Channel.EMAIL)
    _grant(person, Topic.OFFERS, Channel.SMS)
    _grant(person, Topic.OFFERS, Channel.POST)
    _grant(person, Topic.SURVEYS, Channel.EMAIL)

    objection = services.object_to_marketing(person=person, source=Source.PHONE)

    assert objection.in_force and objection.source == "phone"
    assert services.has_objected_to_marketing(person)
    state = services.current_preferences(person)
    assert not any(v for (topic, _), v in state.items() if topic != "surveys")
    assert state[("surveys", "email")] is True  # not prospection: its own consent rules it
    withdrawals = ConsentEvent.objects.filter(person=person, action=Action.WITHDRAWN)
    assert sorted(withdrawals.values_list("topic", "channel")) == [
        ("newsletter", "email"),
        ("offers", "post"),
        ("offers", "sms"),
    ]
    assert set(withdrawals.values_list("source", flat=True)) == {"phone"}
    for topic in ("newsletter", "offers"):
        for channel in Channel:
            assert not services.marketing_audience(topic=topic, channel=channel).exists()


def test_an_objection_is_idempotent(alice):
    person = alice.person
    _grant(person, Topic.OFFERS, Channel.EMAIL)
    first = services.object_to_marketing(person=person, source=Source.MEMBER_SPACE)
    events = ConsentEvent.objects.count()
    second = services.object_to_marketing(person=person, source=Source.LETTER)
    assert second.pk == first.pk
    assert MarketingObjection.objects.filter(person=person).count() == 1
    assert ConsentEvent.objects.count() == events


def test_an_objector_is_never_selected_even_with_a_grant_on_record(alice, dave):
    _grant(alice.person, Topic.OFFERS, Channel.EMAIL)
    _grant(dave.person, Topic.OFFERS, Channel.EMAIL)
    services.object_to_marketing(person=alice.person, source=Source.LETTER)
    # A grant that bypassed the services (a faulty import, a manual fix) changes nothing.
    Preference.objects.filter(person=alice.person, topic="offers", channel="email").update(
        granted=True
    )
    audience = services.marketing_audience(topic="offers", channel="email")
    assert list(audience) == [dave.person]


def test_an_objection_does_not_reach_satisfaction_surveys(alice):
    _grant(alice.person, Topic.SURVEYS, Channel.EMAIL)
    services.object_to_marketing(person=alice.person, source=Source.MEMBER_SPACE)
    assert list(services.marketing_audience(topic="surveys", channel="email")) == [alice.person]


@pytest.mark.parametrize(
    ("source", "actor"),
    [
        (Source.PHONE, "bob"),
        (Source.SUBSCRIPTION, None),
        (Source.IMPORT, None),
        (Source.MEMBER_SPACE, None),  # not logged in as the person
        (Source.MEMBER_SPACE, "bob"),  # staff claiming to be the member space
        (Source.MEMBER_SPACE, "dave"),  # another member's account
    ],
)
def test_only_the_person_can_lift_an_objection(alice, dave, bob, source, actor):
    accounts = {"bob": bob, "dave": dave.account, None: None}
    services.object_to_marketing(person=alice.person, source=Source.LETTER)
    events = ConsentEvent.objects.count()
    with pytest.raises(services.ObjectionInForce):
        _grant(alice.person, Topic.NEWSLETTER, Channel.EMAIL, source, accounts[actor])
    assert ConsentEvent.objects.count() == events
    assert services.has_objected_to_marketing(alice.person)
    assert not services.marketing_audience(topic="newsletter", channel="email").exists()


def test_a_survey_grant_is_allowed_and_keeps_the_objection(alice):
    services.object_to_marketing(person=alice.person, source=Source.LETTER)
    _grant(alice.person, Topic.SURVEYS, Channel.SMS, Source.PHONE)
    assert services.has_objected_to_marketing(alice.person)


def test_the_member_s_own_consent_in_the_member_space_lifts_the_objection(alice):
    person = alice.person
    objection = services.object_to_marketing(person=person, source=Source.LETTER)

    event = _grant(person, Topic.NEWSLETTER, Channel.EMAIL, Source.MEMBER_SPACE, alice.account)

    objection.refresh_from_db()
    assert objection.lifted_at is not None
    assert objection.lifted_by == f"user:{alice.account.pk}"
    assert not services.has_objected_to_marketing(person)
    assert event.action == Action.GRANTED
    assert list(services.marketing_audience(topic="newsletter", channel="email")) == [person]
    # Only what was chosen again applies: the rest withdrawn by the objection stays withdrawn.
    assert not services.marketing_audience(topic="offers", channel="email").exists()
    # The objection stays in the history; a new one can be made.
    again = services.object_to_marketing(person=person, source=Source.MEMBER_SPACE)
    assert again.pk != objection.pk
    assert MarketingObjection.objects.filter(person=person).count() == 2
