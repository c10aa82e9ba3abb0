"""Campaigns by post: the printer's hand-over (guarded, registered, in chunks, finished by the
periodic job) and the letters (the civility the preview shows)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from pypdf import PdfReader

from mutualis.audit.models import Disclosure, Event
from mutualis.backoffice.testing import login_verified, page_text
from mutualis.consent import campaigns, postal, services
from mutualis.consent.models import Delivery, DeliveryStatus, Source
from mutualis.consent.sending import RESTRICTED
from mutualis.consent.tags import ConsentTag
from mutualis.lib.french import plain
from mutualis.members.models import User, UserKind
from mutualis.privacy import restrictions

pytestmark = pytest.mark.django_db


def _postal(bob, *members, kind="newsletter", subject="Nos nouvelles", body="Bonjour {prenom},"):
    for member in members:
        services.grant(
            person=member.person, topic="newsletter", channel="post", source=Source.MEMBER_SPACE
        )
    campaign = campaigns.create_campaign(
        title="Courrier d'été", kind=kind, channel="post", subject=subject, body=body, actor=bob
    )
    return campaigns.start_sending(campaign=campaign, actor=bob)


def _pdf_text(campaign, bob) -> str:
    reader = PdfReader(io.BytesIO(postal.pdf_file(campaign, actor=bob)))
    return plain("\n".join(page.extract_text() for page in reader.pages))


# --- The letter --------------------------------------------------------------------------------
def test_a_letter_addresses_the_recipient_with_the_civility_the_preview_shows(alice, bob):
    from mutualis.backoffice.campaigns.views import preview

    campaign = _postal(
        bob, alice, subject="Pour {civilite} {nom}", body="Bonjour {civilite} {nom},\n\nÀ bientôt."
    )
    assert preview(campaign)["text"].startswith("Bonjour Madame Exemple,")
    assert postal.hand_to_printer(campaign=campaign, actor=bob) == 1
    text = _pdf_text(campaign, bob)
    assert "Bonjour Madame Martin," in text
    assert "Objet : Pour Madame Martin" in text
    assert "Madame Alice Martin" in text  # the address block


# --- Who reaches the printer ---------------------------------------------------------------------
def test_a_person_restricted_after_the_freeze_is_never_in_the_printer_s_files(alice, dave, bob):
    campaign = _postal(bob, alice, dave)
    restrictions.start(subject=dave.person, purpose="*", ground="restriction", reason="x")
    assert postal.hand_to_printer(campaign=campaign, actor=bob) == 1
    csv = postal.csv_file(campaign, actor=bob).decode("utf-8-sig")
    assert "Martin" in csv and "Durand" not in csv
    assert "Durand" not in _pdf_text(campaign, bob)
    assert list(Disclosure.objects.values_list("subject_id", flat=True)) == [str(alice.person.pk)]
    assert Delivery.objects.get(person=dave.person).status == DeliveryStatus.SKIPPED


def test_the_disclosure_to_the_printer_goes_through_the_restriction_guard(alice, dave, bob):
    """Service information serves the contract, but the printer receives data for
    communication: a person restricted for communication passes the selection and is stopped
    by the guard of the disclosure itself, which puts its refusal on record."""
    campaign = _postal(bob, kind="service")
    restrictions.start(
        subject=dave.person, purpose="communication", ground="restriction", reason="x"
    )
    assert postal.hand_to_printer(campaign=campaign, actor=bob) == 1
    row = Delivery.objects.get(person=dave.person)
    assert (row.status, row.error) == (DeliveryStatus.SKIPPED, RESTRICTED)
    refusal = Event.objects.get(tag="privacy:restriction:refuse")
    assert refusal.subject_id == str(dave.person.pk)
    assert refusal.details["use"] == ConsentTag.SERVICE_DELIVER
    assert list(Disclosure.objects.values_list("subject_id", flat=True)) == [str(alice.person.pk)]
    assert "Durand" not in postal.csv_file(campaign, actor=bob).decode("utf-8-sig")


def test_each_disclosure_is_written_with_its_audit_event_under_the_campaign_s_use(alice, bob):
    campaign = _postal(bob, alice)
    postal.hand_to_printer(campaign=campaign, actor=bob)
    (disclosure,) = Disclosure.objects.all()
    assert disclosure.recipient == "printer"
    assert disclosure.actor == f"user:{bob.pk}"  # who asked for the hand-over
    assert disclosure.event.subject_id == str(alice.person.pk)
    assert disclosure.event.tag == "audit:disclosure:create"
    (chunk,) = Event.objects.filter(tag=ConsentTag.CAMPAIGN_EXPORT)
    assert chunk.details == {"chunk": 1, "letters": 1, "skipped": 0}
    assert Event.objects.get(tag=ConsentTag.CAMPAIGN_HANDOVER).details == {"letters": 1}
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert postal.hand_to_printer(campaign=campaign, actor=bob) == 0  # done once


# --- A campaign larger than a web request's share -----------------------------------------------
def test_a_large_campaign_is_finished_by_the_periodic_job_with_its_progress_on_the_page(
    client, alice, dave, bob, monkeypatch
):
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    others = [create_person(data=make_person_data(first_names=f"P{i}")) for i in range(3)]
    for person in others:
        services.grant(person=person, topic="newsletter", channel="post", source="subscription")
    monkeypatch.setattr(postal, "IN_REQUEST_LETTERS", 2)
    campaign = _postal(bob, alice, dave)
    assert campaign.recipients == 5
    camille = User.objects.create_user(
        email="camille@mutuelle.example", kind=UserKind.STAFF, role="communication"
    )
    login_verified(client, camille)
    client.post(reverse("backoffice:campaign_printer", args=[campaign.pk]))
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    counts.update(Delivery.objects.values_list("status").annotate(n=models.Count("pk")))
    assert (counts["exported"], counts["pending"]) == (2, 3)
    page = page_text(client.get(reverse("backoffice:campaign_detail", args=[campaign.pk])))
    assert "Remise à l'imprimeur en cours" in page and "2 sur 5 traités (40 %)" in page
    assert "Télécharger les courriers" not in page and "Remettre à l'imprimeur" not in page
    out = io.StringIO()
    monkeypatch.setattr(postal, "_BATCH", 2)  # two chunks, each committed with its events
    call_command("send_campaigns", stdout=out)
    assert "remis à l'imprimeur : 3" in plain(out.getvalue())
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.EXPORTED}
    assert Disclosure.objects.count() == 5
    chunks = Event.objects.filter(tag=ConsentTag.CAMPAIGN_EXPORT).order_by("id")
    assert [e.details["letters"] for e in chunks] == [2, 2, 1]
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    page = page_text(client.get(reverse("backoffice:campaign_detail", args=[campaign.pk])))
    assert "Télécharger les courriers (PDF)" in page
