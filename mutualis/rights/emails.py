"""Letters of the rights app, in French: rendered from ``rights/email/*.txt``, sent once the
transaction has committed, by e-mail when an address is known, otherwise left for staff to post
(a "courrier à envoyer" step in the request's history)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis.privacy.policy import CNIL
from mutualis.rights.models import RequestEvent, RightsRequest

Attachment = tuple[str, bytes, str]  # (filename, content, MIME type)


def site_url() -> str:
    return settings.MUTUALIS_SITE_URL.rstrip("/")


def render(template: str, request: RightsRequest | None = None, **extra) -> str:
    context = {
        "request": request,
        "received": timezone.localdate(request.received_at) if request is not None else None,
        "cnil": CNIL,
        "organisation": settings.MUTUALIS_ORGANISATION,
        "site_url": site_url(),
        **extra,
    }
    return render_to_string(f"rights/email/{template}", context).strip() + "\n"


def send_on_commit(
    *, to: str, subject: str, body: str, attachments: Iterable[Attachment] = ()
) -> None:
    attachments = list(attachments)

    def _send() -> None:
        message = EmailMessage(subject=subject, body=body, to=[to])
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
        message.send()

    transaction.on_commit(_send)


def deliver(
    request: RightsRequest,
    *,
    subject: str,
    body: str,
    actor=None,
    attachments: Iterable[Attachment] = (),
) -> str:
    """Send ``body`` to the requester: ``"email"``, ``"letter"`` (staff post it) or ``""`` when
    there is no way to reach them. Must run inside the caller's transaction."""
    address = request.reply_address
    if address:
        send_on_commit(to=address, subject=subject, body=body, attachments=attachments)
        return "email"
    if request.requester_address or (request.person_id and request.person.postal_address):
        request.log(RequestEvent.Action.LETTER, actor=actor, note=f"{subject}\n\n{body}")
        return "letter"
    return ""
