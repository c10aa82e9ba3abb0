"""Inquiries from each channel, uploads checked by content, e-mail content erased at 3 months."""

from __future__ import annotations

import datetime
import zoneinfo
from pathlib import Path

import pytest
from django.core import mail

from mutualis.audit.models import Event
from mutualis.contact import services
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Attachment, Channel, Inquiry, Message, Status
from mutualis.contact.services import AttachmentRefused, IncomingFile
from mutualis.privacy import retention

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("channel", [c for c, _ in Channel.choices])
def test_every_channel_opens_a_thread_with_its_first_message(channel, alice):
    inquiry = services.open_inquiry(
        channel=channel, subject="Question", body="Ma question", person=alice.person
    )
    assert inquiry.status == Status.OPEN
    assert inquiry.answer_due > inquiry.received_at.date()
    message = inquiry.messages.get()
    assert message.channel == channel and message.body == "Ma question"
    assert Event.objects.filter(tag="contact:inquiry:create", subject_id=str(alice.person.pk))


def test_a_letter_is_registered_with_its_scan(charlie):
    inquiry = services.open_inquiry(
        channel=Channel.LETTER,
        subject="Courrier du 2 novembre",
        body="Résumé du courrier.",
        contact_name="Mme Leroy",
        contact_address="3 place du Marché\n69001 Lyon",
        files=[IncomingFile("scan.pdf", PDF)],
        actor=charlie,
    )
    attachment = Attachment.objects.get(message__inquiry=inquiry)
    assert attachment.content_type == "application/pdf"
    assert inquiry.messages.get().author == charlie


def test_an_upload_is_checked_by_content_not_by_name():
    with pytest.raises(AttachmentRefused, match="type accepté"):
        services.check_upload(IncomingFile("facture.pdf", b"MZ\x90\x00 not a pdf"))
    assert services.check_upload(IncomingFile("scan.jpg", PDF)) == "application/pdf"


def test_an_upload_over_the_size_limit_is_refused(settings):
    settings.MUTUALIS_UPLOAD_MAX_BYTES = 100
    with pytest.raises(AttachmentRefused, match="taille maximale"):
        services.check_upload(IncomingFile("scan.pdf", PDF + b"0" * 200))


def test_an_answer_goes_by_email_and_to_the_member_space(
    alice, bob, django_capture_on_commit_callbacks
):
    inquiry = services.open_inquiry(
        channel=Channel.MEMBER_SPACE, subject="Attestation", body="?", person=alice.person
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(inquiry=inquiry, body="Voici votre attestation.", actor=bob)
    assert mail.outbox[0].to == [alice.person.email]
    assert inquiry.reference in mail.outbox[0].subject
    visible = Inquiry.objects.visible_to(alice.account)
    assert list(visible) == [inquiry]
    assert visible.get().messages.filter(direction="out").get().body == "Voici votre attestation."


def test_a_member_never_sees_another_members_threads(alice, dave):
    services.open_inquiry(channel=Channel.MEMBER_SPACE, subject="x", body="x", person=dave.person)
    assert not Inquiry.objects.visible_to(alice.account).exists()


def test_a_new_message_reopens_an_answered_thread(bob):
    inquiry = services.open_inquiry(
        channel=Channel.WEB_FORM, subject="x", body="x", contact_email="v@example.com"
    )
    services.answer(inquiry=inquiry, body="Réponse", actor=bob)
    services.add_inbound_message(inquiry=inquiry, channel=Channel.EMAIL, body="Merci mais…")
    inquiry.refresh_from_db()
    assert inquiry.status == Status.OPEN


def _erase_emails(after: datetime.datetime) -> int:
    """The retention engine at ``after``, on the contact app: what its e-mail rule erased."""
    report = retention.enforce(now=after, only_app="contact")
    return sum(s.rows for s in report.steps if s.model == "contact.Message")


def test_received_email_content_is_erased_by_retention_leaving_a_trace():
    message, _ = ingest((FIXTURES / "multipart_attachments.eml").read_bytes())
    past_rule = message.at + datetime.timedelta(days=63)
    assert _erase_emails(past_rule) == 1
    message.refresh_from_db()
    assert message.body == "" and message.sender == ""
    assert message.content_erased_at is not None
    assert not Attachment.objects.exists()
    # The trace stays: date, channel, thread.
    assert message.at and message.channel == Channel.EMAIL and message.inquiry_id
    # Idempotent: nothing more to do.
    assert _erase_emails(past_rule) == 0
    assert Event.objects.filter(tag="privacy:retention:anonymise").count() == 1


def test_only_received_emails_older_than_the_cutoff_are_erased(bob):
    old, _ = ingest((FIXTURES / "latin1_qp.eml").read_bytes())
    recent, _ = ingest((FIXTURES / "html_only.eml").read_bytes())
    services.answer(inquiry=old.inquiry, body="Réponse envoyée", actor=bob)
    # Received 2 and 3 November: on 2 January at noon only the first is two months old.
    _erase_emails(datetime.datetime(2027, 1, 2, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))
    assert Message.objects.get(pk=old.pk).is_erased
    assert not Message.objects.get(pk=recent.pk).is_erased
    assert Message.objects.get(direction="out").body.startswith("Réponse envoyée")
