"""Writes about inquiries, correspondence and complaints.

Each function runs in one transaction and records its audit event inside it. Audit details
carry ids, channels and dates, never the content of a message.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.contact import deadlines
from mutualis.contact.models import (
    Attachment,
    Channel,
    Complaint,
    Direction,
    Inquiry,
    Message,
    Status,
)
from mutualis.contact.tags import ContactTag


class InvalidTransition(Exception):
    pass


class AttachmentRefused(ValueError):
    """An attachment too large or of a type the mutuelle does not accept."""


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content: bytes
    declared_type: str = ""


# Types accepted from the public and the member space, checked by content, not by name.
ALLOWED_UPLOAD_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
}


def check_upload(file: IncomingFile) -> str:
    """Return the content type sniffed from the bytes, or raise :class:`AttachmentRefused`."""
    limit = settings.MUTUALIS_UPLOAD_MAX_BYTES
    if len(file.content) > limit:
        raise AttachmentRefused(
            f"Le fichier « {file.filename[:80]} » dépasse la taille maximale "
            f"({limit // (1024 * 1024)} Mo)."
        )
    kind = filetype.guess(file.content)
    if kind is None or kind.mime not in ALLOWED_UPLOAD_TYPES:
        raise AttachmentRefused(
            f"Le fichier « {file.filename[:80]} » n'est pas d'un type accepté "
            f"({', '.join(ALLOWED_UPLOAD_TYPES.values())})."
        )
    return kind.mime


def _store_attachments(message: Message, files: Iterable[IncomingFile], *, sniff: bool) -> int:
    count = 0
    for file in files:
        content_type = check_upload(file) if sniff else (file.declared_type or "")
        Attachment.objects.create(
            message=message,
            filename=file.filename[:255] or "piece-jointe",
            content_type=(content_type or "application/octet-stream")[:100],
            size=len(file.content),
            content=file.content,
        )
        count += 1
    return count


def open_inquiry(
    *,
    channel: str,
    subject: str,
    body: str,
    person=None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    contact_address: str = "",
    files: Iterable[IncomingFile] = (),
    sender: str = "",
    source_id: str | None = None,
    received_at: datetime.datetime | None = None,
    service: str = "",
    actor=None,
    sniff_attachments: bool = True,
) -> Inquiry:
    """Open a thread from any channel with its first inbound message (policy 1-A)."""
    received_at = received_at or timezone.now()
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            channel=channel,
            subject=subject.strip()[:200] or "(sans objet)",
            person=person,
            contact_name=contact_name.strip()[:150],
            contact_email=contact_email.strip()[:254],
            contact_phone=contact_phone.strip()[:20],
            contact_address=contact_address.strip(),
            received_at=received_at,
            last_contact_at=received_at,
            answer_due=deadlines.inquiry_answer_due(timezone.localdate(received_at)),
            **({"service": service} if service else {}),
        )
        message = Message.objects.create(
            inquiry=inquiry,
            direction=Direction.INBOUND,
            channel=channel,
            at=received_at,
            author=actor if getattr(actor, "is_staff_account", False) else None,
            sender=sender[:254],
            body=body,
            source_id=source_id,
        )
        attachments = _store_attachments(message, files, sniff=sniff_attachments)
        audit.record(
            ContactTag.INQUIRY_CREATE,
            actor=actor,
            subject=person,
            target=inquiry,
            details={"channel": channel, "attachments": attachments},
        )
    return inquiry


def add_inbound_message(
    *,
    inquiry: Inquiry,
    channel: str,
    body: str,
    files: Iterable[IncomingFile] = (),
    sender: str = "",
    source_id: str | None = None,
    at: datetime.datetime | None = None,
    actor=None,
    sniff_attachments: bool = True,
) -> Message:
    at = at or timezone.now()
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        message = Message.objects.create(
            inquiry=inquiry,
            direction=Direction.INBOUND,
            channel=channel,
            at=at,
            sender=sender[:254],
            body=body,
            source_id=source_id,
        )
        attachments = _store_attachments(message, files, sniff=sniff_attachments)
        inquiry.last_contact_at = max(inquiry.last_contact_at, at)
        if inquiry.status in (Status.ANSWERED, Status.WAITING, Status.CLOSED):
            inquiry.status = Status.OPEN
            inquiry.closed_at = None
        inquiry.save(update_fields=["last_contact_at", "status", "closed_at"])
        audit.record(
            ContactTag.MESSAGE_RECEIVE,
            actor=actor,
            subject=inquiry.person_id,
            target=message,
            details={"inquiry": str(inquiry.pk), "channel": channel, "attachments": attachments},
        )
    return message


def change_status(*, inquiry: Inquiry, status: str, actor=None) -> Inquiry:
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if not inquiry.can_become(status):
            raise InvalidTransition(
                f"Une demande « {inquiry.get_status_display()} » ne peut pas passer à "
                f"« {Status(status).label} »."
            )
        previous = inquiry.status
        inquiry.status = status
        inquiry.closed_at = timezone.now() if status == Status.CLOSED else None
        inquiry.save(update_fields=["status", "closed_at"])
        audit.record(
            ContactTag.INQUIRY_STATUS,
            actor=actor,
            subject=inquiry.person_id,
            target=inquiry,
            details={"from": previous, "to": status},
        )
    return inquiry


def assign(*, inquiry: Inquiry, service: str, actor=None) -> Inquiry:
    with transaction.atomic():
        previous = inquiry.service
        inquiry.service = service
        inquiry.save(update_fields=["service"])
        audit.record(
            ContactTag.INQUIRY_ASSIGN,
            actor=actor,
            subject=inquiry.person_id,
            target=inquiry,
            details={"from": previous, "to": service},
        )
    return inquiry


def _send(inquiry: Inquiry, subject: str, body: str) -> bool:
    address = inquiry.reply_address
    if not address:
        return False
    EmailMessage(subject=subject, body=body, to=[address]).send()
    return True


def answer(*, inquiry: Inquiry, body: str, actor, close: bool = False) -> Message:
    """Answer a thread: by e-mail when an address is known, and in the member space.

    A complaint's answer states the recourse routes and the mediator, a refusal included (ACPR
    2022-R-01); an answer sent within the acknowledgement deadline counts as the
    acknowledgement.
    """
    body = body.strip()
    if not body:
        raise ValueError("La réponse ne peut pas être vide.")
    now = timezone.now()
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        complaint = Complaint.objects.filter(inquiry=inquiry).first()
        if complaint is not None:
            body = render_to_string(
                "contact/email/complaint_answer.txt",
                {"body": body, "mediator": settings.MUTUALIS_MEDIATOR, "inquiry": inquiry},
            )
        message = Message.objects.create(
            inquiry=inquiry,
            direction=Direction.OUTBOUND,
            channel=Channel.EMAIL if inquiry.reply_address else Channel.MEMBER_SPACE,
            at=now,
            author=actor,
            body=body,
        )
        inquiry.last_contact_at = now
        inquiry.status = Status.CLOSED if close else Status.ANSWERED
        inquiry.closed_at = now if close else None
        inquiry.save(update_fields=["last_contact_at", "status", "closed_at"])
        if complaint is not None and complaint.answered_at is None:
            complaint.answered_at = now
            if complaint.acknowledged_at is None:
                complaint.acknowledged_at = now  # the answer is the acknowledgement
            complaint.save(update_fields=["answered_at", "acknowledged_at"])
        audit.record(
            ContactTag.COMPLAINT_ANSWER if complaint else ContactTag.MESSAGE_SEND,
            actor=actor,
            subject=inquiry.person_id,
            target=message,
            details={"inquiry": str(inquiry.pk), "closed": close},
        )
        subject = f"Réponse à votre demande {inquiry.reference}"
        transaction.on_commit(lambda: _send(inquiry, subject, body))
    return message


def qualify_as_complaint(
    *,
    inquiry: Inquiry,
    complainant_type: str,
    reason: str,
    product: str = "",
    actor=None,
) -> Complaint:
    """Any expression of dissatisfaction, on any channel, from anyone (ACPR 2022-R-01)."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Indiquez le motif de la réclamation.")
    with transaction.atomic():
        received = timezone.localdate(inquiry.received_at)
        complaint, created = Complaint.objects.get_or_create(
            inquiry=inquiry,
            defaults={
                "qualified_by": actor if getattr(actor, "is_staff_account", False) else None,
                "received_on": received,
                "complainant_type": complainant_type,
                "product": product.strip()[:100],
                "reason": reason[:200],
                "acknowledgement_due": deadlines.complaint_acknowledgement_due(received),
                "answer_due": deadlines.complaint_answer_due(received),
            },
        )
        if created:
            from mutualis.privacy import catalogue

            inquiry.service = catalogue.SERVICE_RECLAMATIONS.code
            inquiry.answer_due = complaint.answer_due
            inquiry.save(update_fields=["service", "answer_due"])
            audit.record(
                ContactTag.COMPLAINT_QUALIFY,
                actor=actor,
                subject=inquiry.person_id,
                target=complaint,
                details={"inquiry": str(inquiry.pk), "complainant_type": complainant_type},
            )
    return complaint


def acknowledge_complaint(*, complaint: Complaint, actor) -> Complaint:
    """Send the acknowledgement (due within 10 working days of receipt)."""
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("inquiry")
            .get(pk=complaint.pk)
        )
        if complaint.acknowledged_at is not None:
            return complaint
        now = timezone.now()
        complaint.acknowledged_at = now
        complaint.save(update_fields=["acknowledged_at"])
        inquiry = complaint.inquiry
        body = render_to_string(
            "contact/email/complaint_acknowledgement.txt",
            {
                "inquiry": inquiry,
                "complaint": complaint,
                "mediator": settings.MUTUALIS_MEDIATOR,
                "organisation": settings.MUTUALIS_ORGANISATION,
            },
        )
        Message.objects.create(
            inquiry=inquiry,
            direction=Direction.OUTBOUND,
            channel=Channel.EMAIL if inquiry.reply_address else Channel.MEMBER_SPACE,
            at=now,
            author=actor,
            body=body,
        )
        audit.record(
            ContactTag.COMPLAINT_ACKNOWLEDGE,
            actor=actor,
            subject=inquiry.person_id,
            target=complaint,
            details={"inquiry": str(inquiry.pk)},
        )
        subject = f"Accusé de réception de votre réclamation {inquiry.reference}"
        transaction.on_commit(lambda: _send(inquiry, subject, body))
    return complaint


def close_complaint(
    *,
    complaint: Complaint,
    outcome: str,
    mediation: bool = False,
    root_cause: str = "",
    actor=None,
) -> Complaint:
    with transaction.atomic():
        complaint.outcome = outcome
        complaint.mediation = mediation
        complaint.root_cause = root_cause.strip()[:200]
        complaint.closed_at = timezone.now()
        complaint.save(update_fields=["outcome", "mediation", "root_cause", "closed_at"])
        audit.record(
            ContactTag.COMPLAINT_ANSWER,
            actor=actor,
            subject=complaint.inquiry.person_id,
            target=complaint,
            details={"outcome": outcome, "mediation": mediation, "closed": True},
        )
    return complaint


def record_inquiry_read(*, inquiry: Inquiry, actor) -> None:
    """A staff member opened a thread: a sensitive read of correspondence (architecture.md §5)."""
    with transaction.atomic():
        audit.record(
            ContactTag.INQUIRY_READ,
            actor=actor,
            subject=inquiry.person_id,
            target=inquiry,
            details={"service": inquiry.service},
        )


def record_attachment_read(*, attachment: Attachment, actor) -> None:
    """A staff member downloaded an attachment (a scan, a document sent by the person)."""
    with transaction.atomic():
        inquiry = attachment.message.inquiry
        audit.record(
            ContactTag.ATTACHMENT_READ,
            actor=actor,
            subject=inquiry.person_id,
            target=attachment,
            details={"inquiry": str(inquiry.pk), "content_type": attachment.content_type},
        )
