"""The append-only, hash-chained audit log and the disclosure register.

Public API (implemented in :mod:`mutualis.audit.services`)::

    from mutualis import audit

    with transaction.atomic():
        member.save()
        audit.record(MembersTag.CONTACT_UPDATE, actor=request.user, subject=member, target=member)

These wrappers import the services when called: importing models while Django loads its apps
would fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mutualis.audit.models import Disclosure, Event
    from mutualis.privacy.declaration import Category, Recipient


def record(
    tag: str,
    *,
    actor: Any = None,
    subject: Any = None,
    target: Any = None,
    details: Mapping[str, Any] | None = None,
) -> Event:
    """Append an audit event inside the caller's transaction (see ``services.record``)."""
    from mutualis.audit import services

    return services.record(tag, actor=actor, subject=subject, target=target, details=details)


def record_disclosure(
    *,
    recipient: Recipient | str,
    subject: Any,
    categories: Iterable[Category | str],
    reason: str,
    actor: Any = None,
    use: str | None = None,
) -> Disclosure:
    """Register a disclosure with its audit event (see ``services.record_disclosure``).

    A disclosure uses the person's data beyond storage: the restriction guard refuses it for a
    person whose processing is restricted (GDPR art. 18(2)) for a purpose the recipient serves,
    unless the DPO allowed it for legal claims. ``use`` is the declared use the disclosure is part
    of (a requisition's export, a rights check): an override the DPO granted for it covers the
    disclosure it makes; without it, the use is the disclosure itself.
    """
    from mutualis.audit import services
    from mutualis.audit.tags import AuditTag
    from mutualis.privacy import catalogue, restrictions

    code = getattr(recipient, "code", recipient)
    for purpose in catalogue.ALL_PURPOSES:
        if subject is not None and any(r.code == code for r in purpose.recipients):
            restrictions.ensure_allowed(
                subject, purpose=purpose, use=use or AuditTag.DISCLOSURE_CREATE
            )
    return services.record_disclosure(
        recipient=recipient,
        subject=subject,
        categories=categories,
        reason=reason,
        actor=actor,
        use=use,
    )
