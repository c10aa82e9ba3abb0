"""The per-organisation rate limit of the API: a fixed window counted in the database.

Every worker and every host counts the same requests, because the counter is one row per
organisation and window, incremented by a single ``UPDATE … RETURNING`` in autocommit: two
workers never both read the same count (unlike a cache's get-then-set). A refused request is
counted too, so hammering does not open the window earlier; the window ends on its own and the
answer says when (``Retry-After``). Older windows of the organisation are deleted when a new
one starts, so the table holds one or two rows per organisation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from mutualis.recipients.models import Organisation, RateWindow

_TABLE = RateWindow._meta.db_table


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends


def limit_of(organisation: Organisation) -> int:
    return organisation.rate_limit or settings.MUTUALIS_PARTNER_RATE_LIMIT


def _increment(organisation_id: int, start: int) -> int | None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A counter, not a record: its commit need not wait for the WAL to reach the disk
            # (a crash may forget a few requests of the last window, never more).
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {_TABLE} SET hits = hits + 1 "  # noqa: S608 - table name from the model
            "WHERE organisation_id = %s AND window_start = %s RETURNING hits",
            [organisation_id, start],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def hit(organisation: Organisation, *, now: float | None = None) -> Decision:
    """Count one request of ``organisation`` and say whether it is within its limit."""
    window = settings.MUTUALIS_PARTNER_RATE_WINDOW
    now = time.time() if now is None else now
    start = int(now // window * window)
    limit = limit_of(organisation)
    hits = _increment(organisation.pk, start)
    if hits is None:
        try:
            with transaction.atomic():
                RateWindow.objects.create(organisation=organisation, window_start=start, hits=1)
            hits = 1
            RateWindow.objects.filter(organisation=organisation, window_start__lt=start).delete()
        except IntegrityError:  # another worker opened the window first
            hits = _increment(organisation.pk, start) or 1
    retry_after = max(1, math.ceil(start + window - now))
    return Decision(
        allowed=hits <= limit,
        limit=limit,
        remaining=max(0, limit - hits),
        retry_after=retry_after,
    )
