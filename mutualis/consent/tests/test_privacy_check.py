"""``privacy_check`` T8: every campaign recipient had agreed, and had not objected, when sent."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from mutualis.consent import campaigns, services
from mutualis.consent.models import Delivery, DeliveryStatus, Source
from mutualis.consent.promises import every_recipient_had_agreed

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
T0 = datetime.datetime(2026, 5, 1, 9, tzinfo=PARIS)


def _breaches():
    return every_recipient_had_agreed(timezone.now()).breaches


def _sent_campaign(bob, *people, at=T0):
    with time_machine.travel(at, tick=False):
        campaign = campaigns.create_campaign(
            title="Lettre de mai",
            kind="newsletter",
            channel="email",
            subject="Mai",
            body="Bonjour {prenom}",
            actor=bob,
        )
        campaign = campaigns.start_sending(campaign=campaign, actor=bob)
    Delivery.objects.filter(campaign=campaign).update(status=DeliveryStatus.SENT, sent_at=at)
    for person in people:  # rows the audience would never have let in
        Delivery.objects.create(
            campaign=campaign,
            person=person,
            revision=1,
            queued_at=at,
            status=DeliveryStatus.SENT,
            sent_at=at,
        )
    return campaign


def _grant(member, at):
    with time_machine.travel(at, tick=False):
        return services.grant(
            person=member.person, topic="newsletter", channel="email", source=Source.PHONE
        )


def test_a_campaign_sent_to_consenting_people_keeps_the_promise(alice, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    _sent_campaign(bob)
    assert _breaches() == []


def test_a_withdrawal_after_the_sending_is_not_retroactive(alice, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    _sent_campaign(bob)
    services.withdraw(person=alice.person, topic="newsletter", channel="email", source="letter")
    assert _breaches() == []


def test_a_recipient_without_consent_at_send_time_is_named_by_log_row(alice, dave, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    campaign = _sent_campaign(bob, dave.person)
    _grant(dave, T0 + datetime.timedelta(hours=1))  # consent given after the message left
    (breach,) = _breaches()
    row = Delivery.objects.get(campaign=campaign, person=dave.person)
    assert "« Lettre de mai » : 1 envoi(s)" in breach and str(row.pk) in breach
    assert dave.person.last_name not in breach


def test_an_objection_in_force_at_send_time_is_a_breach(alice, dave, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    _grant(dave, T0 - datetime.timedelta(days=3))
    with time_machine.travel(T0 - datetime.timedelta(days=1), tick=False):
        services.object_to_marketing(person=dave.person, source=Source.LETTER)
    # A faulty import wrote a grant behind the services' back: the objection still holds.
    from mutualis.consent.models import ConsentEvent

    ConsentEvent.objects.create(
        person=dave.person,
        topic="newsletter",
        channel="email",
        action="granted",
        at=T0 - datetime.timedelta(hours=2),
        source=Source.IMPORT,
        actor="system",
    )
    _sent_campaign(bob, dave.person)
    assert len(_breaches()) == 1


def test_the_check_runs_in_privacy_check(alice, dave, bob):
    from django.core.management import call_command

    _grant(alice, T0 - datetime.timedelta(days=3))
    _sent_campaign(bob, dave.person)
    with pytest.raises(SystemExit):
        call_command("privacy_check")
