"""Campaigns: the text and its revisions, the audience computed at send time, the frozen log."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.audit.models import Event
from mutualis.consent import campaigns, services
from mutualis.consent.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, Source
from mutualis.consent.tags import ConsentTag
from mutualis.contracts.models import Contract
from mutualis.privacy import restrictions
from mutualis.vault import services as vault

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _newsletter(actor, *, channel="email", kind="newsletter", **overrides):
    values = {
        "title": "Lettre de printemps",
        "kind": kind,
        "channel": channel,
        "subject": "Nos nouvelles de printemps",
        "body": "Bonjour {prenom},\n\nVoici nos nouvelles.",
    }
    values.update(overrides)
    return campaigns.create_campaign(**values, actor=actor)


def _subscribe(member, topic="newsletter", channel="email"):
    return services.grant(
        person=member.person, topic=topic, channel=channel, source=Source.MEMBER_SPACE
    )


# --- The text ---------------------------------------------------------------------------------
def test_unknown_placeholders_and_empty_texts_are_refused_in_french(bob):
    with pytest.raises(campaigns.CampaignInvalid) as refused:
        _newsletter(bob, body="Bonjour {prénom} {age}", subject="  ", title="")
    assert refused.value.problems == {
        "subject": "Indiquez l'objet.",
        "body": "Champ de fusion inconnu : {age}, {prénom}. "
        "Champs possibles : {prenom}, {nom}, {civilite}.",
        "title": "Donnez un nom à la campagne.",
    }
    assert not Campaign.objects.exists()


def test_placeholders_are_filled_with_the_recipient_s_values():
    text = "{civilite} {nom}, cher {prenom} ; {inconnu} reste tel quel"
    assert (
        campaigns.personalise(text, first_names="Alice", last_name="Martin", civility="MME")
        == "Madame Martin, cher Alice ; {inconnu} reste tel quel"
    )


def test_editing_the_text_makes_a_new_revision_and_a_sent_campaign_is_frozen(alice, bob):
    campaign = _newsletter(bob)
    assert campaign.revision == 1
    campaign = campaigns.edit_campaign(
        campaign=campaign,
        title="Lettre de printemps 2026",
        kind="newsletter",
        channel="email",
        subject=campaign.subject,
        body=campaign.body,
        actor=bob,
    )
    assert campaign.revision == 1  # the title is not the text
    values = {"kind": "newsletter", "channel": "email", "subject": "Autre objet"}
    campaign = campaigns.edit_campaign(
        campaign=campaign, title=campaign.title, body=campaign.body, actor=bob, **values
    )
    assert campaign.revision == 2
    _subscribe(alice)
    campaigns.start_sending(campaign=campaign, actor=bob)
    with pytest.raises(campaigns.CampaignError):
        campaigns.edit_campaign(campaign=campaign, title="x", body="Nouveau", actor=bob, **values)
    assert Campaign.objects.get().subject == "Autre objet"


# --- The audience -----------------------------------------------------------------------------
def test_the_audience_honours_consent_objection_restriction_death_and_erasure(alice, dave, bob):
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person
    from mutualis.rights import post_mortem

    others = [create_person(data=make_person_data(first_names=n)) for n in ("Eve", "Fred", "Gus")]
    everyone = [alice.person, dave.person, *others]
    for person in everyone:
        services.grant(person=person, topic="newsletter", channel="email", source="subscription")
    services.grant(person=alice.person, topic="newsletter", channel="post", source="subscription")
    services.object_to_marketing(person=dave.person, source=Source.LETTER)
    restrictions.start(subject=others[0], purpose="*", ground="restriction", reason="x", actor=bob)
    post_mortem.record_death(
        person=others[1], date=datetime.date(2026, 1, 2), proof_type="certificate", actor=bob
    )
    # A death withdraws the consents; one recorded through a faulty import would not.
    services.grant(person=others[1], topic="newsletter", channel="email", source="import")
    vault.shred(others[2])

    campaign = _newsletter(bob)
    assert list(campaigns.audience(campaign)) == [alice.person]
    count = campaigns.audience_count(campaign)
    assert (count.candidates, count.objected, count.restricted, count.deceased) == (4, 0, 1, 1)
    assert (count.erased, count.total) == (1, 1)


def test_the_audience_s_size_is_counted_up_to_a_limit_where_the_database_can_stop(alice, dave, bob):
    _subscribe(alice)
    _subscribe(dave)
    campaign = _newsletter(bob)
    assert campaigns.reach(campaign) == 2
    with CaptureQueriesContext(connection) as queries:
        assert campaigns.reach(campaign, up_to=1) == 2  # "more than 1"
    (sql,) = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]
    # Neither sorted (a person's default order is by name) nor the consent column computed:
    # the database may stop at the limit.
    assert "ORDER BY" not in sql and "LIMIT 2" in sql and "consent_event_id" not in sql


def test_service_information_goes_to_members_with_a_contract_in_force_without_consent(
    alice, dave, bob
):
    campaign = _newsletter(bob, kind="service", title="Évolution des garanties")
    assert set(campaigns.audience(campaign)) == {alice.person, dave.person}
    Contract.objects.filter(member=dave).update(end_date=datetime.date(2020, 12, 31))
    services.object_to_marketing(person=alice.person, source=Source.LETTER)  # not marketing
    assert list(campaigns.audience(campaign)) == [alice.person]


# --- Freezing the send log ----------------------------------------------------------------------
def test_sending_freezes_who_which_revision_and_which_consent(alice, dave, bob):
    grant = _subscribe(alice)
    _subscribe(dave, channel="post")
    campaign = _newsletter(bob)
    sent_at = datetime.datetime(2026, 4, 2, 10, tzinfo=PARIS)
    with time_machine.travel(sent_at, tick=False):
        campaign = campaigns.start_sending(campaign=campaign, actor=bob)
    assert (campaign.status, campaign.recipients, campaign.frozen_at) == ("sending", 1, sent_at)
    assert campaign.frozen_by == f"user:{bob.pk}"
    (row,) = Delivery.objects.all()
    assert (row.person_id, row.revision, row.consent_event_id, row.status, row.queued_at) == (
        alice.person.pk,
        1,
        grant.pk,
        DeliveryStatus.PENDING,
        sent_at,
    )
    event = Event.objects.get(tag=ConsentTag.CAMPAIGN_SEND)
    assert event.details["recipients"] == 1
    assert event.details["content_hash"] == campaigns.content_hash(campaign)
    # A consent given after the freeze does not join a campaign already sending.
    _subscribe(dave)
    assert Delivery.objects.count() == 1


def test_a_campaign_nobody_can_receive_is_not_sent(bob):
    campaign = _newsletter(bob)
    with pytest.raises(campaigns.CampaignError, match="Personne ne peut recevoir"):
        campaigns.start_sending(campaign=campaign, actor=bob)
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    assert not Delivery.objects.exists()


# --- Asked from the back office: frozen at once, or by the periodic job ------------------------
def test_a_small_audience_is_frozen_in_the_request(alice, dave, bob, monkeypatch):
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 2)
    _subscribe(alice)
    _subscribe(dave)
    campaign = campaigns.request_sending(campaign=_newsletter(bob), actor=bob)
    assert (campaign.status, campaign.recipients) == (CampaignStatus.SENDING, 2)
    assert campaign.frozen_by == campaign.send_requested_by == f"user:{bob.pk}"
    assert Delivery.objects.count() == 2
    assert not Event.objects.filter(tag=ConsentTag.CAMPAIGN_REQUEST).exists()


def test_a_larger_audience_is_frozen_by_the_job_as_it_is_then(alice, dave, bob, monkeypatch):
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 1)
    _subscribe(alice)
    grant = _subscribe(dave)
    asked_at = datetime.datetime(2026, 4, 2, 10, tzinfo=PARIS)
    with time_machine.travel(asked_at, tick=False):
        campaign = campaigns.request_sending(campaign=_newsletter(bob), actor=bob)
    assert campaign.status == CampaignStatus.PREPARING and not campaign.is_editable
    assert (campaign.send_requested_at, campaign.send_requested_by) == (asked_at, f"user:{bob.pk}")
    assert not Delivery.objects.exists()
    request = Event.objects.get(tag=ConsentTag.CAMPAIGN_REQUEST)
    assert (request.actor, request.details["revision"]) == (f"user:{bob.pk}", 1)
    with pytest.raises(campaigns.CampaignError):  # its text is fixed from the request on
        campaigns.edit_campaign(campaign=campaign, **_texts(campaign), actor=bob)

    # The audience is the one of the job's pass, not of the request.
    services.withdraw(
        person=alice.person, topic="newsletter", channel="email", source=Source.MEMBER_SPACE
    )
    frozen_at = datetime.datetime(2026, 4, 2, 10, 10, tzinfo=PARIS)
    with time_machine.travel(frozen_at, tick=False):
        (campaign,) = campaigns.freeze_all_requested()
    assert (campaign.status, campaign.recipients, campaign.frozen_at) == (
        CampaignStatus.SENDING,
        1,
        frozen_at,
    )
    assert campaign.frozen_by == f"user:{bob.pk}", "in the name of whoever asked"
    (row,) = Delivery.objects.all()
    assert (row.person_id, row.consent_event_id) == (dave.person.pk, grant.pk)
    send = Event.objects.get(tag=ConsentTag.CAMPAIGN_SEND)
    assert (send.actor, send.details["recipients"]) == (f"user:{bob.pk}", 1)
    assert campaigns.freeze_all_requested() == [], "frozen once"
    assert Delivery.objects.count() == 1


def test_a_requested_campaign_nobody_can_receive_any_more_goes_back_to_draft(
    alice, bob, monkeypatch
):
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 0)
    _subscribe(alice)
    campaign = campaigns.request_sending(campaign=_newsletter(bob), actor=bob)
    services.withdraw(
        person=alice.person, topic="newsletter", channel="email", source=Source.MEMBER_SPACE
    )
    (campaign,) = campaigns.freeze_all_requested()
    assert (campaign.status, campaign.frozen_at) == (CampaignStatus.DRAFT, None)
    assert campaign.is_editable and campaign.send_requested_at is not None
    assert not Delivery.objects.exists()
    assert Event.objects.filter(tag=ConsentTag.CAMPAIGN_NO_AUDIENCE).count() == 1
    assert not Event.objects.filter(tag=ConsentTag.CAMPAIGN_SEND).exists()


def test_a_requested_campaign_can_be_cancelled_before_the_job_freezes_it(alice, bob, monkeypatch):
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 0)
    _subscribe(alice)
    campaign = campaigns.request_sending(campaign=_newsletter(bob), actor=bob)
    campaign = campaigns.cancel(campaign=campaign, actor=bob)
    assert campaign.status == CampaignStatus.CANCELLED and campaign.finished_at is None
    assert campaigns.freeze_all_requested() == []
    assert not Delivery.objects.exists()


def test_a_request_is_refused_when_nobody_can_receive_it_now(bob):
    with pytest.raises(campaigns.CampaignError, match="Personne ne peut recevoir"):
        campaigns.request_sending(campaign=_newsletter(bob), actor=bob)
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.send_requested_at) == (CampaignStatus.DRAFT, None)
    assert not Event.objects.filter(tag=ConsentTag.CAMPAIGN_REQUEST).exists()


def _texts(campaign):
    return {
        name: getattr(campaign, name) for name in ("title", "kind", "channel", "subject", "body")
    }


def test_status_changes_follow_the_transition_table(alice, bob):
    _subscribe(alice)
    campaign = campaigns.start_sending(campaign=_newsletter(bob), actor=bob)
    campaign = campaigns.pause(campaign=campaign, actor=bob)
    with pytest.raises(campaigns.CampaignError):
        campaigns.pause(campaign=campaign, actor=bob)
    campaign = campaigns.resume(campaign=campaign, actor=bob)
    campaign = campaigns.cancel(campaign=campaign, actor=bob)
    assert campaign.status == CampaignStatus.CANCELLED
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.CANCELLED]
    with pytest.raises(campaigns.CampaignError):
        campaigns.resume(campaign=campaign, actor=bob)
