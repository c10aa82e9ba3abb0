"""``privacy_check`` T8: every campaign recipient could be sent it when it left: consent in force
and no objection (consent-based kinds), no restriction and no death (every kind, service
information included)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from mutualis.consent import campaigns, services
from mutualis.consent.models import Delivery, DeliveryStatus, Source
from mutualis.consent.promises import every_recipient_could_be_sent_it
from mutualis.lib.french import plain
from mutualis.privacy import restrictions

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
T0 = datetime.datetime(2026, 5, 1, 9, tzinfo=PARIS)


def _breaches():
    return [plain(b) for b in every_recipient_could_be_sent_it(timezone.now()).breaches]


def _sent_campaign(bob, *people, at=T0, kind="newsletter", channel="email"):
    with time_machine.travel(at, tick=False):
        campaign = campaigns.create_campaign(
            title="Lettre de mai",
            kind=kind,
            channel=channel,
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
    assert "« Lettre de mai » : 1 envoi sans accord en vigueur" in breach
    assert str(row.pk) in breach
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


# --- Every kind: restriction and death at send time -------------------------------------------
def _restrict(person, bob, *, purpose="*", at):
    with time_machine.travel(at, tick=False):
        return restrictions.start(
            subject=person, purpose=purpose, ground="restriction", reason="demande", actor=bob
        )


def _record_death(person, bob, *, at):
    from mutualis.rights import post_mortem

    with time_machine.travel(at, tick=False):
        post_mortem.record_death(person=person, date=at.date(), proof_type="certificate", actor=bob)


def test_service_information_to_members_who_could_receive_it_keeps_the_promise(alice, dave, bob):
    _sent_campaign(bob, kind="service")
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2  # alice and dave
    assert _breaches() == []


def test_service_information_sent_after_a_death_was_recorded_is_a_breach(alice, dave, bob):
    campaign = _sent_campaign(bob, kind="service")
    _record_death(dave.person, bob, at=T0 - datetime.timedelta(days=1))
    (breach,) = _breaches()
    row = Delivery.objects.get(campaign=campaign, person=dave.person)
    assert "1 envoi à une personne dont le décès était enregistré" in breach
    assert str(row.pk) in breach


def test_a_death_recorded_after_the_sending_is_not_a_breach(alice, dave, bob):
    _sent_campaign(bob, kind="service")
    _record_death(dave.person, bob, at=T0 + datetime.timedelta(hours=1))
    assert _breaches() == []


def test_a_newsletter_sent_after_a_death_was_recorded_is_a_breach(alice, dave, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    _grant(dave, T0 - datetime.timedelta(days=3))
    # The death withdraws the consents: the row breaches twice over, named once per reason.
    _record_death(dave.person, bob, at=T0 - datetime.timedelta(days=1))
    _sent_campaign(bob, dave.person)
    breaches = _breaches()
    assert len(breaches) == 2
    assert any("à une personne dont le décès était enregistré" in b for b in breaches)


def test_service_information_to_a_person_restricted_at_send_time_is_a_breach(alice, dave, bob):
    _restrict(dave.person, bob, at=T0 - datetime.timedelta(days=1))
    campaign = _sent_campaign(bob, dave.person, kind="service")
    (breach,) = _breaches()
    row = Delivery.objects.get(campaign=campaign, person=dave.person)
    assert "1 envoi à une personne dont le traitement était limité (RGPD art. 18)" in breach
    assert str(row.pk) in breach and dave.person.last_name not in breach


def test_a_newsletter_to_a_person_restricted_at_send_time_is_a_breach(alice, dave, bob):
    _grant(alice, T0 - datetime.timedelta(days=3))
    _grant(dave, T0 - datetime.timedelta(days=3))
    _restrict(dave.person, bob, purpose="communication", at=T0 - datetime.timedelta(days=1))
    _sent_campaign(bob, dave.person)
    (breach,) = _breaches()
    assert "limité" in breach


def test_a_restriction_covers_only_the_purpose_of_the_campaign(alice, dave, bob):
    # Restricted for communication only: service information (the contract) may still go.
    _restrict(dave.person, bob, purpose="communication", at=T0 - datetime.timedelta(days=1))
    _sent_campaign(bob, kind="service")
    assert Delivery.objects.filter(person=dave.person).exists()
    assert _breaches() == []


def test_a_restriction_lifted_before_or_started_after_the_sending_is_not_a_breach(alice, dave, bob):
    restriction = _restrict(dave.person, bob, at=T0 - datetime.timedelta(days=2))
    with time_machine.travel(T0 - datetime.timedelta(days=1), tick=False):
        restrictions.record_lift_notice(restriction=restriction, actor=bob)
        restrictions.lift(restriction=restriction, actor=bob)
    _sent_campaign(bob, kind="service")
    _restrict(alice.person, bob, at=T0 + datetime.timedelta(hours=1))
    assert Delivery.objects.count() == 2
    assert _breaches() == []


def test_a_postal_letter_to_a_restricted_person_is_a_breach(alice, dave, bob):
    _restrict(dave.person, bob, at=T0 - datetime.timedelta(days=1))
    _sent_campaign(bob, dave.person, kind="service", channel="post")
    Delivery.objects.update(status=DeliveryStatus.EXPORTED)
    (breach,) = _breaches()
    assert "limité" in breach
