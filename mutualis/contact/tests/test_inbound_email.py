"""E-mail ingestion on real .eml files: encodings, HTML, attachments, threading, idempotence."""

from __future__ import annotations

import datetime
import io
import mailbox
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.audit.models import Event
from mutualis.contact.inbound import ingest, parse_email
from mutualis.contact.models import Channel, Inquiry, Message
from mutualis.contact.testing import IMAP_SETTINGS, FakeImapServer

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.django_db


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_encoded_headers_and_quoted_printable_latin1_are_decoded():
    parsed = parse_email(raw("latin1_qp.eml"))
    assert parsed.sender_name == "Anèle Dürand"
    assert parsed.subject == "Question sur le remboursement des lunettes été"
    assert "remboursé pour des lunettes à 300 euros" in parsed.text
    assert parsed.source_id == "q1@example.net"


def test_html_only_mail_is_reduced_to_text_without_script_or_style():
    text = parse_email(raw("html_only.eml")).text
    assert "résilier" in text and "Cordialement" in text
    assert "alert" not in text and "color:red" not in text and "<p>" not in text


def test_attachments_are_kept_and_the_plain_part_is_preferred(alice):
    message, created = ingest(raw("multipart_attachments.eml"))
    assert created
    assert message.body.startswith("Bonjour,\nje n'ai toujours pas été remboursée")
    names = sorted(a.filename for a in message.attachments.all())
    assert names == ["facture-été.pdf", "photo.png"]
    pdf = message.attachments.get(filename="facture-été.pdf")
    assert bytes(pdf.content).startswith(b"%PDF") and pdf.content_type == "application/pdf"


def test_the_sender_is_matched_to_a_person_case_insensitively(alice):
    message, _ = ingest(raw("multipart_attachments.eml"))
    assert message.inquiry.person == alice.person
    assert message.inquiry.contact_email == ""  # known person: no duplicate contact data


def test_an_unknown_sender_keeps_name_and_address_on_the_thread():
    message, _ = ingest(raw("latin1_qp.eml"))
    inquiry = message.inquiry
    assert inquiry.person is None
    assert inquiry.contact_email == "anele.durand@example.net"
    assert inquiry.channel == Channel.EMAIL


def test_a_reply_joins_its_thread_and_cp1252_is_decoded():
    first, _ = ingest(raw("latin1_qp.eml"))
    reply, created = ingest(raw("reply_cp1252.eml"))
    assert created
    assert reply.inquiry == first.inquiry
    assert "j’ai une autre question…" in reply.body
    assert Inquiry.objects.count() == 1


def test_unknown_charset_and_missing_message_id_still_make_one_entry():
    message, created = ingest(raw("unknown_charset_no_id.eml"))
    again, created_again = ingest(raw("unknown_charset_no_id.eml"))
    assert created and not created_again
    assert again.pk == message.pk
    assert message.source_id.startswith("sha256:")
    assert "Texte avec accents" in message.body


def test_the_same_message_twice_makes_one_entry_and_one_audit_event():
    ingest(raw("latin1_qp.eml"))
    events = Event.objects.count()
    ingest(raw("latin1_qp.eml"))
    assert Message.objects.count() == 1
    assert Event.objects.count() == events


def test_fetch_mail_reads_a_folder_of_eml_files_idempotently(tmp_path):
    for name in ("latin1_qp.eml", "html_only.eml", "reply_cp1252.eml"):
        (tmp_path / name).write_bytes(raw(name))
    out = io.StringIO()
    call_command("fetch_mail", "--path", str(tmp_path), stdout=out)
    assert "3 messages enregistrés" in out.getvalue()
    out = io.StringIO()
    call_command("fetch_mail", "--path", str(tmp_path), stdout=out)
    assert "0 message enregistré, 3 déjà connus" in out.getvalue()
    assert Inquiry.objects.count() == 2


def test_fetch_mail_reads_a_maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "box", create=True)
    box.add(raw("html_only.eml"))
    box.add(raw("latin1_qp.eml"))
    call_command("fetch_mail", "--path", str(tmp_path / "box"), stdout=io.StringIO())
    assert Message.objects.count() == 2


@pytest.fixture
def imap_server(settings, monkeypatch):
    import imaplib

    server = FakeImapServer()
    monkeypatch.setattr(imaplib, "IMAP4_SSL", server.client_class())
    settings.MUTUALIS_IMAP = dict(IMAP_SETTINGS)
    return server


def test_fetch_mail_stores_each_imap_message_then_deletes_and_expunges_it(imap_server):
    today = datetime.date.today()
    imap_server.deliver(raw("latin1_qp.eml"), today)
    imap_server.deliver(raw("html_only.eml"), today)
    call_command("fetch_mail", stdout=io.StringIO())
    assert Message.objects.count() == 2
    assert imap_server.messages == {}  # nothing left to outlive the policy's three months
    assert imap_server.expunged == 2


def test_a_message_that_cannot_be_stored_stays_in_the_mailbox(imap_server, monkeypatch):
    from mutualis.contact.management.commands import fetch_mail

    today = datetime.date.today()
    kept = imap_server.deliver(raw("latin1_qp.eml"), today)
    imap_server.deliver(raw("html_only.eml"), today)
    real_ingest = fetch_mail.ingest

    def failing_first(data):
        if data == raw("latin1_qp.eml"):
            raise ValueError("unreadable")
        return real_ingest(data)

    monkeypatch.setattr(fetch_mail, "ingest", failing_first)
    with pytest.raises(CommandError, match="1 message"):
        call_command("fetch_mail", stdout=io.StringIO(), stderr=io.StringIO())
    assert list(imap_server.messages) == [kept]
    assert Message.objects.count() == 1


def test_a_message_fetched_twice_is_stored_once_and_still_deleted(imap_server):
    today = datetime.date.today()
    imap_server.deliver(raw("latin1_qp.eml"), today)
    call_command("fetch_mail", stdout=io.StringIO())
    imap_server.deliver(raw("latin1_qp.eml"), today)  # the server handed it out again
    out = io.StringIO()
    call_command("fetch_mail", stdout=out)
    assert "1 déjà connu" in out.getvalue()
    assert Message.objects.count() == 1 and imap_server.messages == {}


def test_fetch_mail_without_a_mailbox_says_what_to_configure(settings):
    settings.MUTUALIS_IMAP = {"host": ""}
    with pytest.raises(CommandError, match="MUTUALIS_IMAP_HOST"):
        call_command("fetch_mail", stdout=io.StringIO())


def test_a_missing_path_is_a_clear_error():
    with pytest.raises(CommandError, match="introuvable"):
        call_command("fetch_mail", "--path", "/nulle/part", stdout=io.StringIO())
