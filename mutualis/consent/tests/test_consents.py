"""Grant and withdraw: the history is the proof, the current state follows its latest event."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from mutualis.consent import services
from mutualis.consent.models import (
    Action,
    AppendOnly,
    Channel,
    ConsentEvent,
    Preference,
    Source,
    Topic,
)
from mutualis.consent.notices import current_notice

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
T1 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
T2 = datetime.datetime(2026, 9, 15, 18, 30, tzinfo=PARIS)


def _grant(person, topic=Topic.NEWSLETTER, channel=Channel.EMAIL, **kwargs):
    kwargs.setdefault("source", Source.SUBSCRIPTION)
    return services.grant(person=person, topic=topic, channel=channel, **kwargs)


def test_a_grant_is_recorded_with_its_proof_and_becomes_the_current_state(alice, bob):
    person = alice.person
    notice = current_notice(Topic.NEWSLETTER)
    with time_machine.travel(T1, tick=False):
        event = _grant(person, source=Source.PHONE, actor=bob, notice=notice)
    event.refresh_from_db()
    assert (event.person_id, event.topic, event.channel, event.action) == (
        person.pk,
        "newsletter",
        "email",
        Action.GRANTED,
    )
    assert (event.at, event.source, event.actor, event.notice_id) == (
        T1,
        "phone",
        f"user:{bob.pk}",
        notice.pk,
    )
    preferences = services.current_preferences(person)
    assert preferences[("newsletter", "email")] is True
    assert sum(preferences.values()) == 1
    assert len(preferences) == len(Topic) * len(Channel)


def test_a_withdrawal_is_not_retroactive_the_grant_stays_on_record(alice):
    person = alice.person
    with time_machine.travel(T1, tick=False):
        granted = _grant(person)
    with time_machine.travel(T2, tick=False):
        withdrawn = services.withdraw(
            person=person, topic="newsletter", channel="email", source=Source.MEMBER_SPACE
        )
    history = list(ConsentEvent.objects.filter(person=person).order_by("at"))
    assert [(e.pk, e.action, e.at) for e in history] == [
        (granted.pk, Action.GRANTED, T1),
        (withdrawn.pk, Action.WITHDRAWN, T2),
    ]
    assert history[0].notice.version == 1  # untouched by the withdrawal
    assert history[1].notice is None
    assert services.current_preferences(person)[("newsletter", "email")] is False
    preference = Preference.objects.get(person=person, topic="newsletter", channel="email")
    assert (preference.granted, preference.since, preference.event_id) == (
        False,
        T2,
        withdrawn.pk,
    )


def test_withdrawing_takes_one_call_exactly_like_granting(alice):
    person = alice.person
    _grant(person, topic=Topic.OFFERS, channel=Channel.SMS)
    services.withdraw(person=person, topic="offers", channel="sms", source=Source.MEMBER_SPACE)
    _grant(person, topic=Topic.OFFERS, channel=Channel.SMS)
    assert services.current_preferences(person)[("offers", "sms")] is True
    assert ConsentEvent.objects.filter(person=person).count() == 3


def test_consent_events_are_append_only(alice):
    event = _grant(alice.person)
    event.source = Source.LETTER
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        ConsentEvent.objects.filter(pk=event.pk).update(action=Action.WITHDRAWN)
    with pytest.raises(AppendOnly):
        event.delete()
    assert ConsentEvent.objects.get(pk=event.pk).source == Source.SUBSCRIPTION


def test_withdraw_all_withdraws_only_what_is_given(alice, dave):
    person = alice.person
    _grant(person, topic=Topic.NEWSLETTER, channel=Channel.EMAIL)
    _grant(person, topic=Topic.SURVEYS, channel=Channel.POST)
    _grant(person, topic=Topic.OFFERS, channel=Channel.SMS)
    services.withdraw(person=person, topic="offers", channel="sms", source=Source.LETTER)
    _grant(dave.person)
    before = ConsentEvent.objects.filter(person=person).count()

    assert services.withdraw_all(person=person, source=Source.RIGHTS_REQUEST) == 2

    assert ConsentEvent.objects.filter(person=person).count() == before + 2
    assert not any(services.current_preferences(person).values())
    assert services.current_preferences(dave.person)[("newsletter", "email")] is True
    assert services.withdraw_all(person=person, source=Source.RIGHTS_REQUEST) == 0


def test_each_person_s_choices_stay_their_own(alice, dave):
    _grant(alice.person)
    assert not any(services.current_preferences(dave.person).values())
    assert not ConsentEvent.objects.filter(person=dave.person).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"topic": "spam", "channel": "email", "source": "subscription"},
        {"topic": "offers", "channel": "fax", "source": "subscription"},
        {"topic": "offers", "channel": "email", "source": "rumour"},
        {"topic": "", "channel": "email", "source": "subscription"},
    ],
)
def test_an_unknown_topic_channel_or_source_is_refused(alice, kwargs):
    with pytest.raises(services.UnknownChoice):
        services.grant(person=alice.person, **kwargs)
    with pytest.raises(ValueError):
        services.withdraw(person=alice.person, **kwargs)
    assert not ConsentEvent.objects.exists()


def test_set_preferences_records_only_the_changes_in_one_go(alice):
    person = alice.person
    _grant(person, topic=Topic.SURVEYS, channel=Channel.EMAIL)
    wanted = dict(services.current_preferences(person))
    wanted[("surveys", "email")] = False
    wanted[("newsletter", "post")] = True
    events = services.set_preferences(
        person=person, choices=wanted, source=Source.MEMBER_SPACE, actor=alice.account
    )
    assert sorted((e.topic, e.channel, e.action) for e in events) == [
        ("newsletter", "post", "granted"),
        ("surveys", "email", "withdrawn"),
    ]
    grant = next(e for e in events if e.action == Action.GRANTED)
    assert grant.notice == current_notice("newsletter")
    assert services.current_preferences(person) == wanted
    assert services.set_preferences(person=person, choices=wanted, source="member_space") == []


def test_the_history_goes_with_its_person(db):
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    person = create_person(data=make_person_data(first_names="Prospect", with_nir=False))
    services.grant(person=person, topic="newsletter", channel="post", source=Source.LETTER)
    services.object_to_marketing(person=person, source=Source.LETTER)
    person.delete()
    assert not ConsentEvent.objects.exists()
    assert not Preference.objects.exists()


@pytest.mark.postgres
def test_the_database_refuses_to_edit_a_consent_event(alice):
    from django.db import DatabaseError, connection, transaction

    event = _grant(alice.person)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_consentevent SET action = %s WHERE id = %s", ["withdrawn", event.pk]
        )
    assert ConsentEvent.objects.get(pk=event.pk).action == Action.GRANTED
