"""The communication service's pages: campaigns, send log, printer's files, notices, choices
recorded by staff with their document, and the audience dashboard."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from mutualis.audit.models import Disclosure, Event
from mutualis.backoffice.campaigns import views as campaign_views
from mutualis.backoffice.testing import login_verified, page_text, visible_text
from mutualis.consent import campaigns, notices, services
from mutualis.consent.models import (
    Campaign,
    ConsentDocument,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    Source,
)
from mutualis.consent.tags import ConsentTag
from mutualis.members.models import User, UserKind

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def camille(db):
    """Staff of the communication service."""
    return User.objects.create_user(
        email="camille@mutuelle.example",
        password="x" * 16,
        kind=UserKind.STAFF,
        role="communication",
        display_name="Camille",
    )


@pytest.fixture
def staff_client(client, camille):
    # Just re-authenticated: the printer's files are exports.
    login_verified(client, camille, reauthenticated=True)
    return client


def _draft(actor, **overrides):
    values = {
        "title": "Lettre de juin",
        "kind": "newsletter",
        "channel": "email",
        "subject": "Nos nouvelles",
        "body": "Bonjour {prenom},\n\nVoici nos nouvelles.",
    }
    values.update(overrides)
    return campaigns.create_campaign(**values, actor=actor)


def _subscribe(member, channel="email"):
    services.grant(person=member.person, topic="newsletter", channel=channel, source="phone")


# --- Who may open what ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("campaign_list", []),
        ("campaign_create", []),
        ("notice_list", []),
        ("statistics", []),
    ],
)
def test_staff_without_the_permission_is_refused(client, charlie, name, args):
    login_verified(client, charlie)
    assert client.get(reverse(f"backoffice:{name}", args=args)).status_code == 403


def test_the_dpo_sees_campaigns_and_statistics_but_cannot_prepare_or_send(client, bob, camille):
    campaign = _draft(camille)
    login_verified(client, bob)
    assert client.get(reverse("backoffice:campaign_list")).status_code == 200
    page = client.get(reverse("backoffice:campaign_detail", args=[campaign.pk]))
    assert page.status_code == 200 and "Lancer l'envoi" not in page_text(page)
    assert client.get(reverse("backoffice:statistics")).status_code == 200
    assert client.get(reverse("backoffice:campaign_create")).status_code == 403
    send = reverse("backoffice:campaign_send", args=[campaign.pk])
    assert client.post(send).status_code == 403
    assert Campaign.objects.get().status == "draft"


def test_a_member_is_refused_the_back_office(client, alice):
    client.force_login(alice.account)
    assert client.get(reverse("backoffice:campaign_list")).status_code == 403


# --- Composing, previewing, counting, sending -----------------------------------------------------
def test_compose_preview_count_and_send_a_campaign(staff_client, alice, dave):
    _subscribe(alice)
    response = staff_client.post(
        reverse("backoffice:campaign_create"),
        {
            "title": "Lettre de juin",
            "kind": "newsletter",
            "channel": "email",
            "subject": "Nos nouvelles, {prenom}",
            "body": "Bonjour {prenom},\n\nVoici nos nouvelles.",
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("backoffice:campaign_detail", args=[campaign.pk])
    page = visible_text(staff_client.get(response["Location"]))
    assert "Nos nouvelles, Camille" in page and "Bonjour Camille," in page  # the preview
    assert "1 destinataire si la campagne partait maintenant" in page
    assert "Lancer l'envoi à 1 destinataire" in page
    staff_client.post(reverse("backoffice:campaign_send", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == "sending" and campaign.recipients == 1
    page = page_text(staff_client.get(reverse("backoffice:campaign_detail", args=[campaign.pk])))
    assert '<progress id="barre" max="1" value="0">' in page
    # The page reloads itself only when its reader asks, and says how to stop (WCAG 2.2.1).
    assert 'http-equiv="refresh"' not in page and "?suivre=1" in page
    followed = reverse("backoffice:campaign_detail", args=[campaign.pk]) + "?suivre=1"
    page = page_text(staff_client.get(followed))
    assert '<meta http-equiv="refresh" content="10">' in page
    assert "arrêter la mise à jour automatique" in page
    log = visible_text(staff_client.get(reverse("backoffice:campaign_log", args=[campaign.pk])))
    assert "Alice Martin" in log and "Dave" not in log


def test_a_large_audience_is_frozen_and_sent_by_the_job(
    staff_client, alice, camille, smtp_server, monkeypatch
):
    """Above IN_REQUEST_RECIPIENTS the request only asks: the job freezes, then sends."""
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 0)
    _subscribe(alice)
    campaign = _draft(camille)
    detail = reverse("backoffice:campaign_detail", args=[campaign.pk])
    response = staff_client.post(
        reverse("backoffice:campaign_send", args=[campaign.pk]), follow=True
    )
    page = visible_text(response)
    assert "Envoi demandé. L'audience est trop grande" in page
    assert "La tâche d'envoi la calcule à son prochain passage" in page
    assert "Modifier le brouillon" not in page and "Annuler la campagne" in page
    campaign.refresh_from_db()
    assert campaign.status == "preparing" and not campaign.deliveries.exists()

    out = io.StringIO()
    call_command("send_campaigns", "--rate", "0", stdout=out)
    assert "« Lettre de juin » — destinataires arrêtés : 1." in out.getvalue()
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == [alice.account.email]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipients) == ("sent", 1)
    assert campaign.frozen_by == f"user:{camille.pk}"
    assert "Envoi lancé le" in visible_text(staff_client.get(detail))


def test_a_large_audience_is_counted_step_by_step_only_when_asked(
    staff_client, alice, dave, camille, monkeypatch
):
    """Above IN_REQUEST_RECIPIENTS the draft's page bounds its count; the detail on demand."""
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 1)
    _subscribe(alice)
    _subscribe(dave)
    detail = reverse("backoffice:campaign_detail", args=[_draft(camille).pk])
    page = visible_text(staff_client.get(detail))
    assert "Plus de 1 destinataires si la campagne partait maintenant" in page
    assert "Comment l'audience est calculée" not in page
    assert "Lancer l'envoi à plus de 1 destinataires" in page
    asked = visible_text(staff_client.get(detail + "?decompte=1"))
    assert "2 destinataires si la campagne partait maintenant" in asked
    assert "Comment l'audience est calculée" in asked


def test_the_send_log_pages_keep_the_state_shown(staff_client, alice, dave, camille, monkeypatch):
    monkeypatch.setattr(campaign_views, "PAGE_SIZE", 1)
    _subscribe(alice)
    _subscribe(dave)
    campaign = _draft(camille)
    staff_client.post(reverse("backoffice:campaign_send", args=[campaign.pk]))
    log = reverse("backoffice:campaign_log", args=[campaign.pk])
    page = staff_client.get(log + "?etat=pending").content.decode()
    assert '<nav aria-label="Pages du journal">' in page
    assert 'href="?etat=pending&amp;page=2">Page suivante' in page
    second = visible_text(staff_client.get(log + "?etat=pending&page=2"))
    assert "Page 2 sur 2" in second


def test_a_requested_sending_that_finds_nobody_says_so_on_the_draft(
    staff_client, alice, camille, monkeypatch
):
    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 0)
    _subscribe(alice)
    campaign = _draft(camille)
    staff_client.post(reverse("backoffice:campaign_send", args=[campaign.pk]))
    services.withdraw(person=alice.person, topic="newsletter", channel="email", source="phone")
    out = io.StringIO()
    call_command("send_campaigns", stdout=out)
    assert "personne ne peut plus la recevoir" in out.getvalue()
    page = visible_text(staff_client.get(reverse("backoffice:campaign_detail", args=[campaign.pk])))
    assert "n'est pas parti : quand la tâche d'envoi a calculé l'audience" in page
    assert "Modifier le brouillon" in page
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_a_wrong_placeholder_is_shown_on_the_form_in_french(staff_client):
    response = staff_client.post(
        reverse("backoffice:campaign_create"),
        {"title": "x", "kind": "offers", "channel": "post", "subject": "s", "body": "{age}"},
    )
    assert response.status_code == 200
    assert "Champ de fusion inconnu : {age}" in page_text(response)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": "x" * 500, "kind": "spam", "channel": "fax", "subject": "\x00", "body": "y"},
        {"title": "t", "kind": "newsletter", "channel": "email", "subject": "a\nb", "body": "b"},
    ],
)
def test_garbage_never_answers_500(staff_client, data):
    assert staff_client.post(reverse("backoffice:campaign_create"), data).status_code == 200
    assert not Campaign.objects.exists()


def test_an_empty_audience_is_refused_with_a_message(staff_client, camille):
    campaign = _draft(camille)
    response = staff_client.post(
        reverse("backoffice:campaign_send", args=[campaign.pk]), follow=True
    )
    assert "Personne ne peut recevoir cette campagne" in page_text(response)
    assert Campaign.objects.get().status == "draft"


def test_a_sent_campaign_cannot_be_edited(staff_client, camille, alice):
    _subscribe(alice)
    campaign = campaigns.start_sending(campaign=_draft(camille), actor=camille)
    response = staff_client.get(reverse("backoffice:campaign_edit", args=[campaign.pk]))
    assert response.status_code == 302


def test_pause_resume_cancel(staff_client, camille, alice):
    _subscribe(alice)
    campaign = campaigns.start_sending(campaign=_draft(camille), actor=camille)
    for action, status in [("pause", "paused"), ("resume", "sending"), ("cancel", "cancelled")]:
        staff_client.post(reverse(f"backoffice:campaign_{action}", args=[campaign.pk]))
        campaign.refresh_from_db()
        assert campaign.status == status


# --- Post: the printer's files ----------------------------------------------------------------
def test_a_postal_campaign_goes_to_the_printer_with_only_those_who_chose_post(
    staff_client, camille, alice, dave
):
    _subscribe(alice, channel="post")
    _subscribe(dave, channel="post")
    campaign = campaigns.start_sending(
        campaign=_draft(camille, channel="post", title="Courrier d'été"), actor=camille
    )
    services.withdraw(person=dave.person, topic="newsletter", channel="post", source="letter")
    response = staff_client.post(
        reverse("backoffice:campaign_printer", args=[campaign.pk]), follow=True
    )
    assert "1 courrier remis à l'imprimeur" in page_text(response)
    statuses = dict(Delivery.objects.values_list("person_id", "status"))
    assert statuses == {alice.person.pk: DeliveryStatus.EXPORTED, dave.person.pk: "skipped"}
    (disclosure,) = Disclosure.objects.all()
    assert (disclosure.recipient, disclosure.subject_id) == ("printer", str(alice.person.pk))
    assert disclosure.categories == ["contact", "identity"]

    csv = staff_client.get(reverse("backoffice:campaign_printer_csv", args=[campaign.pk]))
    text = csv.content.decode("utf-8-sig")
    header, row = text.strip().split("\r\n")
    assert header.startswith("référence;civilité;nom;prénoms;adresse")
    assert "Martin;Alice" in row and alice.person.postal_code in row
    assert "Durand" not in text

    pdf = staff_client.get(reverse("backoffice:campaign_printer_pdf", args=[campaign.pk]))
    assert pdf["Content-Type"].startswith("application/pdf")
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    letter = reader.pages[0].extract_text()
    assert "Alice Martin" in letter and "Bonjour Alice," in letter
    assert "par courrier" in letter
    downloads = Event.objects.filter(tag=ConsentTag.CAMPAIGN_EXPORT).values_list(
        "details", flat=True
    )
    assert [d.get("download") for d in downloads] == [None, "csv", "pdf"]
    campaign.refresh_from_db()
    assert campaign.status == "sent"


def test_a_csv_cell_cannot_be_a_formula(camille, alice):
    from mutualis.consent import postal

    alice.person.__class__.objects.filter(pk=alice.person.pk).update(last_name="=HYPERLINK(1)")
    _subscribe(alice, channel="post")
    campaign = campaigns.start_sending(campaign=_draft(camille, channel="post"), actor=camille)
    postal.hand_to_printer(campaign=campaign, actor=camille)
    assert "'=HYPERLINK(1)" in postal.csv_file(campaign, actor=camille).decode("utf-8-sig")


# --- Notices ----------------------------------------------------------------------------------
def test_publishing_a_new_version_of_a_notice(staff_client):
    text = (
        "J'accepte de recevoir les enquêtes de la mutuelle ; je peux retirer mon accord à tout "
        "moment."
    )
    response = staff_client.post(
        reverse("backoffice:notice_list"), {"topic": "surveys", "text": text}, follow=True
    )
    assert "version 2" in page_text(response)
    assert notices.current_notice("surveys").text == text
    refused = staff_client.post(
        reverse("backoffice:notice_list"), {"topic": "surveys", "text": "court"}
    )
    assert "40 caractères au moins" in page_text(refused)


# --- Choices recorded by staff ------------------------------------------------------------------
def _record(client, member, **data):
    return client.post(reverse("backoffice:record_choice", args=[member.pk]), data)


def test_a_letter_is_recorded_with_its_scan_and_the_notice_printed(staff_client, camille, alice):
    notice = notices.current_notice("offers")
    upload = io.BytesIO(PNG)
    upload.name = "courrier.png"
    response = _record(
        staff_client,
        alice,
        topic="offers",
        channel="post",
        granted="1",
        source="letter",
        notice=str(notice.pk),
        note="",
        document=upload,
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get(person=alice.person)
    assert (event.action, event.source, event.notice, event.actor) == (
        "granted",
        Source.LETTER,
        notice,
        f"user:{camille.pk}",
    )
    document = ConsentDocument.objects.get(event=event)
    assert (document.filename, document.content_type, bytes(document.content)) == (
        "courrier.png",
        "image/png",
        PNG,
    )
    download = staff_client.get(reverse("backoffice:choice_document", args=[event.pk]))
    assert download.content == PNG and "attachment" in download["Content-Disposition"]
    assert Event.objects.filter(tag=ConsentTag.DOCUMENT_READ, subject_id=str(alice.person.pk))


def test_a_call_is_recorded_with_the_note_and_a_letter_needs_its_document(staff_client, alice):
    notice = notices.current_notice("newsletter")
    common = {"topic": "newsletter", "channel": "email", "granted": "1", "notice": notice.pk}
    refused = _record(staff_client, alice, **common, source="letter", note="Reçu ce jour")
    assert "Joignez le courrier" in page_text(refused)
    no_notice = _record(staff_client, alice, **{**common, "notice": ""}, source="phone", note="x")
    assert "version de la mention" in page_text(no_notice)
    assert not ConsentEvent.objects.exists()
    _record(staff_client, alice, **common, source="phone", note="Appel du 3 juin, 10 h 12.")
    assert ConsentDocument.objects.get().note == "Appel du 3 juin, 10 h 12."


def test_staff_cannot_lift_an_objection(staff_client, alice):
    services.object_to_marketing(person=alice.person, source=Source.LETTER)
    notice = notices.current_notice("offers")
    response = _record(
        staff_client,
        alice,
        topic="offers",
        channel="email",
        granted="1",
        source="phone",
        notice=notice.pk,
        note="Dit qu'il veut nos offres",
    )
    assert "seul son propre accord" in page_text(response)
    assert services.has_objected_to_marketing(alice.person)


def test_a_nir_typed_in_the_note_is_refused(staff_client, alice):
    response = _record(
        staff_client,
        alice,
        topic="surveys",
        channel="sms",
        granted="0",
        source="phone",
        note="Son numéro 295109912611193",
    )
    assert "N'y recopiez ni numéro de sécurité sociale" in page_text(response)
    assert "295109912611193" not in page_text(response)


def test_the_member_record_shows_the_choices_and_links_to_recording_them(staff_client, alice):
    _subscribe(alice)
    page = page_text(staff_client.get(reverse("backoffice:member_detail", args=[alice.pk])))
    assert "Préférences de communication" in page
    assert "Informations et actualités de la mutuelle — par courriel" in page
    assert reverse("backoffice:record_choice", args=[alice.pk]) in page


# --- The audience dashboard ----------------------------------------------------------------------
def test_the_dashboard_draws_the_figures_as_svg_without_inline_script_or_style(staff_client):
    import datetime

    from django.utils import timezone

    from mutualis.audience.models import DailyAggregate

    day = timezone.localdate() - datetime.timedelta(days=1)
    for dimension, key, value in [
        ("total", "visits", 12),
        ("total", "page_views", 30),
        ("total", "seconds", 600),
        ("browser", "Firefox", 7),
        ("browser", "Chrome", 5),
        ("page", "web:home", 20),
        ("duration", "moins de 10 s", 12),
        ("return", "première visite", 12),
    ]:
        DailyAggregate.objects.create(day=day, dimension=dimension, key=key, value=value)
    response = staff_client.get(reverse("backoffice:statistics"))
    body = page_text(response)
    assert body.count("<svg") >= 4
    assert "<title>Firefox : 7</title>" in body
    assert "12 visites" in visible_text(response)
    assert "50 s de visite en moyenne" in visible_text(response)
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert ' style="' not in body
