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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Clearance:
    """The restriction guard's answer for one disclosure, asked ahead (:func:`clear_disclosure`).

    Given back to :func:`record_disclosure`, it spares the disclosure a second asking; it covers
    only the recipient, person and use it was asked for.
    """

    recipient: str
    subject_id: str
    use: str


def clear_disclosure(
    *, recipient: Recipient | str, subject: Any, use: str | None = None
) -> Clearance:
    """Ask the restriction guard whether ``subject``'s data may be disclosed to ``recipient``.

    Raises ``ProcessingRestricted`` (audited) when the person's processing is restricted for a
    purpose the recipient serves (GDPR art. 18(2)) and no DPO override for legal claims covers
    ``use``; one query for all those purposes. Call it before the transaction that records the
    disclosure, so that a refusal stays on record, and pass the :class:`Clearance` it returns to
    :func:`record_disclosure`.
    """
    from mutualis.audit.tags import AuditTag
    from mutualis.privacy import catalogue, restrictions

    if subject is None:
        raise ValueError("a disclosure concerns one person: pass subject")
    code = str(getattr(recipient, "code", recipient))
    use = str(use or AuditTag.DISCLOSURE_CREATE)
    purposes = [p for p in catalogue.ALL_PURPOSES if any(r.code == code for r in p.recipients)]
    if purposes:
        restrictions.ensure_allowed_for(subject, purposes=purposes, use=use)
    return Clearance(code, restrictions.subject_id_of(subject), use)


def record_disclosure(
    *,
    recipient: Recipient | str,
    subject: Any,
    categories: Iterable[Category | str],
    reason: str,
    actor: Any = None,
    use: str | None = None,
    clearance: Clearance | None = None,
) -> Disclosure:
    """Register a disclosure with its audit event (see ``services.record_disclosure``).

    A disclosure uses the person's data beyond storage: the restriction guard refuses it for a
    person whose processing is restricted (GDPR art. 18(2)) for a purpose the recipient serves,
    unless the DPO allowed it for legal claims. ``use`` is the declared use the disclosure is part
    of (a requisition's export, a rights check): an override the DPO granted for it covers the
    disclosure it makes; without it, the use is the disclosure itself. The guard is asked here
    (:func:`clear_disclosure`) unless ``clearance`` is its answer for this very disclosure.
    """
    from mutualis.audit import services
    from mutualis.audit.tags import AuditTag
    from mutualis.privacy import restrictions

    asked = clearance is not None and clearance == Clearance(
        str(getattr(recipient, "code", recipient)),
        restrictions.subject_id_of(subject) if subject is not None else "",
        str(use or AuditTag.DISCLOSURE_CREATE),
    )
    if not asked and subject is not None:
        clear_disclosure(recipient=recipient, subject=subject, use=use)
    return services.record_disclosure(
        recipient=recipient,
        subject=subject,
        categories=categories,
        reason=reason,
        actor=actor,
        use=use,
    )
