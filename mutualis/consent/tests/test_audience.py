"""``marketing_audience``: every future selection honours consents, objections and erasure."""

from __future__ import annotations

import pytest

from mutualis.consent import services
from mutualis.consent.models import Channel, Source, Topic
from mutualis.members.models import Person
from mutualis.vault import services as vault

pytestmark = pytest.mark.django_db


def _grant(person, topic=Topic.NEWSLETTER, channel=Channel.EMAIL):
    return services.grant(person=person, topic=topic, channel=channel, source=Source.SUBSCRIPTION)


def _audience(topic="newsletter", channel="email"):
    return list(services.marketing_audience(topic=topic, channel=channel))


def test_it_selects_people_with_a_grant_in_force_for_that_topic_and_channel(alice, dave):
    _grant(alice.person)
    _grant(dave.person, channel=Channel.POST)
    assert _audience() == [alice.person]
    assert _audience(channel="post") == [dave.person]
    assert _audience(topic="offers") == []


def test_a_withdrawal_takes_the_person_out_at_once(alice):
    _grant(alice.person)
    services.withdraw(
        person=alice.person, topic="newsletter", channel="email", source=Source.UNSUBSCRIBE_LINK
    )
    assert _audience() == []


def test_a_person_whose_data_key_is_shredded_is_never_selected(alice, dave):
    _grant(alice.person)
    _grant(dave.person)
    vault.shred(Person.objects.get(pk=alice.person.pk))
    assert _audience() == [dave.person]


def test_a_person_who_cannot_be_reached_on_the_channel_is_not_selected(alice):
    _grant(alice.person, channel=Channel.SMS)
    assert _audience(channel="sms") == [alice.person]
    Person.objects.filter(pk=alice.person.pk).update(phone_mobile="")
    assert _audience(channel="sms") == []


def test_the_audience_is_a_queryset_of_people(alice):
    _grant(alice.person)
    audience = services.marketing_audience(topic=Topic.NEWSLETTER, channel=Channel.EMAIL)
    assert audience.model is Person
    assert audience.filter(pk=alice.person.pk).exists()


def test_an_unknown_topic_or_channel_is_refused():
    with pytest.raises(services.UnknownChoice):
        services.marketing_audience(topic="spam", channel="email")
    with pytest.raises(services.UnknownChoice):
        services.marketing_audience(topic="offers", channel="pigeon")


def test_a_restricted_person_is_left_out_of_every_marketing_selection(alice, bob):
    from mutualis.consent import services
    from mutualis.privacy import restrictions

    services.grant(person=alice.person, topic="newsletter", channel="email", source="member_space")
    assert alice.person in services.marketing_audience(topic="newsletter", channel="email")
    restrictions.start(
        subject=alice.person,
        purpose="*",
        ground="restriction",
        reason="Exactitude contestée",
        actor=bob,
    )
    assert alice.person not in services.marketing_audience(topic="newsletter", channel="email")
