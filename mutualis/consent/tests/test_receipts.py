"""Notices in versions, and the receipts a member gets of each consent and withdrawal."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
import time_machine

from mutualis.audit.models import Event
from mutualis.consent import notices, receipts, services
from mutualis.consent.models import AppendOnly, ConsentEvent, ConsentNotice, Source
from mutualis.consent.tags import ConsentTag
from mutualis.lib.french import typography

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
PAGE = "/espace/preferences/"


# --- Notices ---------------------------------------------------------------------------------
def test_each_topic_has_a_first_version_written_when_first_needed(db):
    notice = notices.current_notice("offers")
    assert (notice.topic, notice.version, notice.published_by) == ("offers", 1, "system")
    assert "Mutuelle des assurés sociaux" in notice.text
    assert notices.current_notice("offers").pk == notice.pk


def test_a_new_text_is_a_new_version_and_earlier_consents_keep_theirs(alice, bob):
    first = services.grant(person=alice.person, topic="newsletter", channel="email", source="phone")
    text = (
        "J'accepte de recevoir la lettre mensuelle de la mutuelle par le canal choisi ; je peux "
        "retirer mon accord à tout moment."
    )
    second = notices.publish_notice(topic="newsletter", text=text, actor=bob)
    assert second.version == 2 and notices.current_notice("newsletter") == second
    assert notices.publish_notice(topic="newsletter", text=text, actor=bob) == second
    again = services.grant(person=alice.person, topic="newsletter", channel="post", source="phone")
    assert ConsentEvent.objects.get(pk=first.pk).notice.version == 1
    assert again.notice == second
    event = Event.objects.get(tag=ConsentTag.NOTICE_PUBLISH)
    assert event.details == {"topic": "newsletter", "version": 2, "sha256": second.sha256}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Trop court.", "40 caractères au moins"),
        ("J'accepte de recevoir des informations de la mutuelle par courriel.", "retirer"),
    ],
)
def test_a_notice_must_be_clear_and_say_how_to_withdraw(bob, text, message):
    with pytest.raises(notices.NoticeError, match=message):
        notices.publish_notice(topic="offers", text=text, actor=bob)


def test_a_notice_version_is_never_changed(db):
    notice = notices.current_notice("surveys")
    notice.text = "autre"
    with pytest.raises(AppendOnly):
        notice.save()
    with pytest.raises(AppendOnly):
        ConsentNotice.objects.filter(pk=notice.pk).update(text="autre")
    with pytest.raises(AppendOnly):
        notice.delete()


def test_a_notice_of_another_topic_is_refused(alice):
    with pytest.raises(services.UnknownChoice):
        services.grant(
            person=alice.person,
            topic="offers",
            channel="email",
            source="phone",
            notice=notices.current_notice("newsletter"),
        )


def test_the_member_space_records_the_version_it_showed(alice_client, alice, bob):
    shown = notices.current_notice("newsletter")
    page = alice_client.get(PAGE).content.decode()
    assert typography(shown.text).replace("'", "&#x27;") in page
    # A new version is published while the page is open: the grant names the one shown.
    notices.publish_notice(
        topic="newsletter",
        text="J'accepte la nouvelle lettre de la mutuelle ; je peux retirer mon accord à tout "
        "moment.",
        actor=bob,
    )
    alice_client.post(PAGE, {"newsletter_email": "on", "mention_newsletter": str(shown.pk)})
    assert ConsentEvent.objects.get(person=alice.person).notice == shown


@pytest.mark.parametrize("tampered", ["abc", "999999", "-1"])
def test_a_tampered_notice_field_falls_back_to_the_version_in_force(alice_client, alice, tampered):
    alice_client.post(PAGE, {"offers_email": "on", "mention_offers": tampered})
    assert ConsentEvent.objects.get(person=alice.person).notice == notices.current_notice("offers")


def test_a_notice_of_another_topic_posted_falls_back_too(alice_client, alice):
    other = notices.current_notice("surveys")
    alice_client.post(PAGE, {"offers_email": "on", "mention_offers": str(other.pk)})
    assert ConsentEvent.objects.get(person=alice.person).notice.topic == "offers"


# --- Receipts --------------------------------------------------------------------------------
def test_a_receipt_names_the_notice_the_time_the_method_and_the_previous_record(alice):
    at = datetime.datetime(2026, 3, 2, 10, tzinfo=PARIS)
    with time_machine.travel(at, tick=False):
        grant = services.grant(
            person=alice.person, topic="offers", channel="email", source=Source.MEMBER_SPACE
        )
    with time_machine.travel(at + datetime.timedelta(days=30), tick=False):
        withdrawal = services.withdraw(
            person=alice.person, topic="offers", channel="email", source=Source.UNSUBSCRIBE_LINK
        )
    given = receipts.receipt(grant, policy_url="https://mutuelle.example/confidentialite/")
    assert given["schema"] == "mutualis.consent-receipt/1"
    assert given["version"] == "KI-CR-v1.1.0"
    assert given["consentReceiptID"] == str(grant.pk)
    assert given["consentTimestamp"] == int(at.timestamp())
    assert given["piiPrincipalId"] == alice.number
    assert given["policyUrl"] == "https://mutuelle.example/confidentialite/"
    record = given["record"]
    assert record["event"]["type"] == "given"
    assert record["event"]["time"] == "2026-03-02T10:00:00+01:00"
    assert record["notice"]["id"] == "offers-v1"
    assert record["notice"]["sha256"] == grant.notice.sha256
    assert record["consent"]["state_after"] == "active"
    assert record["previous_record_id"] is None
    assert record["retroactive"] is False
    taken_back = receipts.receipt(withdrawal, policy_url="x")["record"]
    assert taken_back["event"]["type"] == "withdrawn"
    assert taken_back["notice"] is None
    assert taken_back["previous_record_id"] == str(grant.pk)
    assert taken_back["event"]["recorded_by"].startswith("le lien de désinscription")


def test_the_controller_s_phone_is_in_the_receipt_when_the_settings_give_one(alice, settings):
    grant = services.grant(
        person=alice.person, topic="offers", channel="email", source=Source.MEMBER_SPACE
    )
    (controller,) = receipts.receipt(grant, policy_url="x")["piiControllers"]
    assert "phone" not in controller  # the demo organisation has none
    settings.MUTUALIS_ORGANISATION = {**settings.MUTUALIS_ORGANISATION, "phone": "01 23 45 67 89"}
    (controller,) = receipts.receipt(grant, policy_url="x")["piiControllers"]
    assert controller["phone"] == "01 23 45 67 89"
    assert controller["email"] == settings.MUTUALIS_ORGANISATION["dpo_email"]


def test_a_member_downloads_the_receipt_of_her_choice(alice_client, alice):
    event = services.grant(person=alice.person, topic="surveys", channel="sms", source="letter")
    response = alice_client.get(f"{PAGE}recus/{event.pk}/recu.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["record"]["record_id"] == str(event.pk)
    assert data["policyUrl"] == "http://testserver/confidentialite/"
    page = alice_client.get(f"{PAGE}recus/{event.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Le texte que vous avez accepté" in body and event.notice.sha256 in body
    assert list(
        Event.objects.filter(tag=ConsentTag.RECEIPT_DOWNLOAD).values_list("details", flat=True)
    ) == [{"format": "json"}, {"format": "html"}]
    assert f"{PAGE}recus/{event.pk}/" in alice_client.get(PAGE).content.decode()


def test_another_member_s_receipt_is_not_found(alice_client, dave):
    event = services.grant(person=dave.person, topic="surveys", channel="sms", source="letter")
    for suffix in ("", "recu.json"):
        assert alice_client.get(f"{PAGE}recus/{event.pk}/{suffix}").status_code == 404
    assert not Event.objects.filter(tag=ConsentTag.RECEIPT_DOWNLOAD).exists()


def test_a_receipt_needs_a_login(client, alice):
    event = services.grant(person=alice.person, topic="surveys", channel="sms", source="letter")
    response = client.get(f"{PAGE}recus/{event.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/espace/connexion/")
