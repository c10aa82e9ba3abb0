"""Rights requests from people without an account (a prospect, a former member, an heir).

The public form sends a request that is **held** until the requester proves the e-mail address
is theirs: a single-use link, valid :data:`VERIFICATION_LIFETIME`, is sent there (only a SHA-256
of its token is stored). Following it files the request (:func:`verify`): it enters the staff
queue like any other, received when it was *sent* — the one-month deadline (GDPR art. 12(3)) runs
from receipt — and identity is then checked by staff as for a letter. The face rate-limits the
form (per client and per address), so the link cannot be used to flood a mailbox; an unverified
request expires and is deleted (retention rule of the declaration).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.rights import services
from mutualis.rights.models import Capacity, Channel, Kind, PendingRequest, RightsRequest
from mutualis.rights.tags import RightsTag

VERIFICATION_LIFETIME = datetime.timedelta(hours=24)
# What people without an account may ask through the form (the rest needs a known person, and
# staff attach the request to them once identity is checked).
PUBLIC_KINDS = (
    Kind.ACCESS,
    Kind.RECTIFICATION,
    Kind.ERASURE,
    Kind.OBJECTION,
    Kind.MARKETING_OBJECTION,
    Kind.RESTRICTION,
    Kind.PORTABILITY,
    Kind.POST_MORTEM,
)
MESSAGE_MAX_CHARS = 3000


class VerificationError(services.RightsError):
    """The link is unknown, already used or expired (French message)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def submit(
    *,
    kind: str,
    requester_name: str,
    requester_email: str,
    requester_capacity: str = Capacity.SELF,
    message: str = "",
    link: Callable[[str], str],
) -> PendingRequest:
    """Hold a request from the public form and e-mail its verification link (built by the face
    from the token: ``link(token)``). Nothing enters the staff queue yet."""
    if kind not in PUBLIC_KINDS:
        raise services.RightsError("Choisissez la nature de votre demande.")
    if requester_capacity not in Capacity.values:
        raise services.RightsError("Indiquez en quelle qualité vous agissez.")
    name = (requester_name or "").strip()[:150]
    email = (requester_email or "").strip().lower()
    if not name:
        raise services.RightsError("Indiquez votre nom.")
    try:
        validate_email(email)
    except ValidationError:
        raise services.RightsError("Indiquez une adresse électronique valide.") from None
    message = services.no_secrets(message, "Précisions")[:MESSAGE_MAX_CHARS]
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        pending = PendingRequest.objects.create(
            kind=kind,
            requester_name=name,
            requester_email=email,
            requester_capacity=requester_capacity,
            message=message,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + VERIFICATION_LIFETIME,
        )
        audit.record(RightsTag.PENDING_CREATE, target=pending, details={"kind": kind})
        body = render_to_string(
            "rights/email/verify_address.txt",
            {
                "pending": pending,
                "link": link(token),
                "hours": int(VERIFICATION_LIFETIME.total_seconds() // 3600),
                "organisation": settings.MUTUALIS_ORGANISATION,
            },
        )
        transaction.on_commit(
            lambda: send_mail(
                subject="Confirmez votre demande sur vos données",
                message=body,
                from_email=None,
                recipient_list=[email],
            )
        )
    return pending


def verify(token: str) -> RightsRequest:
    """Follow the link: the held request is filed (received when it was sent), once."""
    now = timezone.now()
    expired = PendingRequest.objects.filter(token_hash=_hash(token or ""), expires_at__lte=now)
    if expired.delete()[0]:
        raise VerificationError(
            "Ce lien a expiré : pour protéger vos données, une demande non confirmée est "
            "effacée. Envoyez-la de nouveau."
        )
    with transaction.atomic():
        pending = (
            PendingRequest.objects.select_for_update().filter(token_hash=_hash(token or "")).first()
        )
        if pending is None:
            raise VerificationError(
                "Ce lien n'est pas valable ou a déjà servi : votre demande est peut-être déjà "
                "enregistrée. Sinon, envoyez-la de nouveau."
            )
        request = services.file_request(
            kind=pending.kind,
            requester_name=pending.requester_name,
            requester_email=pending.requester_email,
            requester_capacity=pending.requester_capacity,
            channel=Channel.WEB_FORM,
            received_at=pending.created_at,
            details={"message": pending.message, "email_verified_at": now.isoformat()},
            identity_verified=False,
        )
        audit.record(
            RightsTag.PENDING_VERIFY,
            target=request,
            details={
                "kind": pending.kind,
                "waited_seconds": int((now - pending.created_at).total_seconds()),
            },
        )
        pending.delete()
    return request
