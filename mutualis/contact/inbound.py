"""Inbound e-mail: MIME parsing and idempotent ingestion into inquiries.

Parsing uses the standard library's ``email`` package with the modern policy (encoded headers,
charsets, multipart); HTML-only messages are reduced to text with ``html2text``. A message is
identified by its Message-ID (or, without one, by a digest of its bytes), so ingesting the same
message twice makes one entry. A reply quoting a thread's reference (``D26-1A2B3C4D``) or
answering one of its messages joins that thread.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

import html2text
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualis.contact import services
from mutualis.contact.models import Channel, Inquiry, Message
from mutualis.contact.services import IncomingFile

REFERENCE = re.compile(r"\bD\d{2}-[0-9A-F]{8}\b")


@dataclass
class ParsedEmail:
    source_id: str
    sender_name: str
    sender_address: str
    subject: str
    date: datetime | None
    text: str
    in_reply_to: list[str] = field(default_factory=list)
    attachments: list[IncomingFile] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _decode_part(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.ignore_images = True
    converter.body_width = 0
    return converter.handle(html).strip()


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<([^<>\s]+)>", value or "")


def parse_email(raw: bytes) -> ParsedEmail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = _ids(str(message.get("Message-ID", "")))
    source_id = message_id[0][:255] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    try:
        date = email.utils.parsedate_to_datetime(str(message.get("Date", "")))
        if timezone.is_naive(date):
            date = timezone.make_aware(date, timezone.get_default_timezone())
    except (TypeError, ValueError, IndexError):
        date = None
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        text = ""
    elif body.get_content_type() == "text/html":
        text = html_to_text(_decode_part(body))
    else:
        text = _decode_part(body).strip()
    parsed = ParsedEmail(
        source_id=source_id,
        sender_name=name,
        sender_address=address.lower(),
        subject=str(message.get("Subject", "") or "").strip(),
        date=date,
        text=text[: settings.MUTUALIS_MESSAGE_MAX_CHARS * 4],
        in_reply_to=_ids(str(message.get("In-Reply-To", "")))
        + _ids(str(message.get("References", ""))),
    )
    limit = settings.MUTUALIS_UPLOAD_MAX_BYTES
    for part in message.iter_attachments():
        filename = part.get_filename() or "piece-jointe"
        content = part.get_payload(decode=True) or b""
        if len(content) > limit:
            parsed.dropped.append(filename)
            continue
        parsed.attachments.append(
            IncomingFile(filename=filename, content=content, declared_type=part.get_content_type())
        )
    return parsed


def _thread_for(parsed: ParsedEmail) -> Inquiry | None:
    if parsed.in_reply_to:
        message = (
            Message.objects.filter(source_id__in=parsed.in_reply_to)
            .select_related("inquiry")
            .first()
        )
        if message is not None:
            return message.inquiry
    match = REFERENCE.search(parsed.subject)
    if match:
        return Inquiry.objects.filter(reference=match.group(0)).first()
    return None


def _person_for(address: str):
    from mutualis.members.models import Person

    if not address:
        return None
    matches = list(Person.objects.filter(email__iexact=address)[:2])
    return matches[0] if len(matches) == 1 else None


def ingest(raw: bytes) -> tuple[Message, bool]:
    """Record one e-mail; returns ``(message, created)``. The same message twice is one entry."""
    parsed = parse_email(raw)
    existing = Message.objects.filter(source_id=parsed.source_id).first()
    if existing is not None:
        return existing, False
    text = parsed.text
    if parsed.dropped:
        text += (
            "\n\n[Pièces jointes trop volumineuses, non conservées : "
            + ", ".join(parsed.dropped)
            + "]"
        )
    received = parsed.date or timezone.now()
    # An e-mail dated in the future is dated now: its three-month clock cannot be pushed back.
    received = min(received, timezone.now())
    try:
        with transaction.atomic():
            thread = _thread_for(parsed)
            if thread is not None:
                message = services.add_inbound_message(
                    inquiry=thread,
                    channel=Channel.EMAIL,
                    body=text,
                    files=parsed.attachments,
                    sender=parsed.sender_address,
                    source_id=parsed.source_id,
                    at=received,
                    sniff_attachments=False,
                )
            else:
                person = _person_for(parsed.sender_address)
                inquiry = services.open_inquiry(
                    channel=Channel.EMAIL,
                    subject=parsed.subject,
                    body=text,
                    person=person,
                    contact_name=parsed.sender_name if person is None else "",
                    contact_email=parsed.sender_address if person is None else "",
                    files=parsed.attachments,
                    sender=parsed.sender_address,
                    source_id=parsed.source_id,
                    received_at=received,
                    sniff_attachments=False,
                )
                message = inquiry.messages.get()
    except IntegrityError:
        # Another worker ingested the same message meanwhile.
        return Message.objects.get(source_id=parsed.source_id), False
    return message, True
