"""Writes of the audience statistics: an event, and forgetting a visitor who opts out.

An event is written by the visitor's own browser, many times a day, about an identifier that
points to no one: it is not audited one by one (the aggregation of each day is). Forgetting a
visitor is: the opt-out deletes every raw event of that browser at once (the policy: an opt-out
is honoured immediately), and the audit event says how many went, never which identifier.
"""

from __future__ import annotations

from django.db import transaction

from mutualis import audit
from mutualis.audience.models import AudienceEvent, EventKind
from mutualis.audience.tags import AudienceTag
from mutualis.audience.visitor import Visitor

MAX_DURATION_MS = 6 * 3600 * 1000  # a page left open longer says nothing more


def record_event(
    *, visitor: Visitor, kind: str, page: str, browser: str, duration_ms: int | None = None
) -> AudienceEvent:
    """One raw event (see :mod:`mutualis.audience.models`)."""
    if kind not in EventKind.values:
        raise ValueError(f"unknown audience event {kind!r}")
    if duration_ms is not None:
        duration_ms = max(0, min(int(duration_ms), MAX_DURATION_MS))
    return AudienceEvent.objects.create(
        visitor=visitor.id,
        visitor_since=visitor.since,
        kind=kind,
        page=page[:120],
        browser=browser[:40],
        duration_ms=duration_ms if kind == EventKind.LEAVE else None,
    )


def forget_visitor(*, visitor: Visitor) -> int:
    """Delete every raw event of ``visitor`` (an opt-out). Returns how many."""
    with transaction.atomic():
        deleted, _ = AudienceEvent.objects.filter(visitor=visitor.id).delete()
        audit.record(AudienceTag.VISITOR_FORGET, actor="anonymous", details={"events": deleted})
    return deleted
