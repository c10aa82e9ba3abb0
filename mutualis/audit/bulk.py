"""Writing audit history in bulk, for generated data sets (``generate_members``, benchmarks).

The events are exactly what :func:`mutualis.audit.services.record` and the sequencer would have
written — same canonical content, MAC under the current audit key, links chained from the head —
but streamed with ``COPY`` on PostgreSQL (``executemany`` on SQLite), with ids drawn in advance.
It holds the chain head for its whole run, so it must not run beside live writers: it is a tool
for building data sets, never a path of the product. Memory stays bounded (rows go out in chunks).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction

from mutualis.audit.keys import audit_key_ring
from mutualis.audit.models import CHAIN_HEAD_PK, ChainHead, canonical_content, link_hash
from mutualis.audit.sequencer import locked_head, sequence_all

CHUNK = 10_000


@dataclass(frozen=True)
class BulkEvent:
    at: datetime
    tag: str
    actor: str = "system"
    subject_id: str = ""
    target: str = ""
    details: Any = None


class BulkChain:
    """Builds events and their links in memory, a chunk at a time; :meth:`flush` writes them.

    Use inside one transaction that holds the chain head (:func:`locked_head`), ending with
    :meth:`close`, which moves the head and the watermark past what was written.
    """

    def __init__(self) -> None:
        self.ring = audit_key_ring()
        # Events written the ordinary way come first: the watermark will pass them.
        sequence_all()
        head = locked_head()
        assert head is not None  # without skip_locked the head is waited for, never None
        self.next_id = _next_id()
        self.seq, self.prev = head.last_seq, head.last_hash
        self.event_rows: list[tuple] = []
        self.link_rows: list[tuple] = []
        self.written = 0

    def add(self, event: BulkEvent) -> int:
        """Queue one event; returns its id (for rows that refer to it, such as disclosures)."""
        uid = uuid.uuid4()
        details = event.details or {}
        content = canonical_content(
            uid=uid,
            at=event.at,
            actor=event.actor,
            tag=event.tag,
            subject_id=event.subject_id,
            target=event.target,
            details=details,
        )
        mac = self.ring.sign(content)
        event_id = self.next_id
        self.next_id += 1
        self.seq += 1
        self.prev = link_hash(
            seq=self.seq, event_id=event_id, prev_hash=self.prev, mac=mac, content=content
        )
        self.event_rows.append(
            (
                event_id,
                uid,
                event.at,
                event.actor,
                event.tag,
                event.subject_id,
                event.target,
                orjson.dumps(details).decode(),
                mac,
            )
        )
        self.link_rows.append((self.seq, event_id, self.prev))
        return event_id

    def flush(self) -> None:
        if self.event_rows:
            _write(self.event_rows, self.link_rows)
            self.written += len(self.event_rows)
            self.event_rows, self.link_rows = [], []

    def close(self) -> int:
        """Write what remains and move the head; returns how many events were written."""
        self.flush()
        ChainHead.objects.filter(pk=CHAIN_HEAD_PK).update(
            last_seq=self.seq,
            last_hash=self.prev,
            watermark=self.next_id - 1,
            horizon_id=None,
            horizon_xmax=None,
        )
        _reset_sequence(self.next_id - 1)
        return self.written


def write_events(events: Iterable[BulkEvent], *, chunk: int = CHUNK) -> int:
    """Append ``events`` to the log and place them in the chain; returns how many were written.

    Values are taken as given (already plain JSON, no NIR or IBAN): the caller generates them.
    """
    with transaction.atomic():
        chain = BulkChain()
        for n, event in enumerate(events, start=1):
            chain.add(event)
            if n % chunk == 0:
                chain.flush()
        return chain.close()


def _next_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_event")
        return cursor.fetchone()[0]


_EVENT_COLUMNS = "id, uid, at, actor, tag, subject_id, target, details, mac"
_SQLITE_EVENT = (
    "INSERT INTO audit_event (id, uid, at, actor, tag, subject_id, target, details, mac) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _write(event_rows: list[tuple], link_rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor: COPY
            with raw.copy(f"COPY audit_event ({_EVENT_COLUMNS}) FROM STDIN") as copy:
                for row in event_rows:
                    copy.write_row(row)
            with raw.copy("COPY audit_chainlink (seq, event_id, hash) FROM STDIN") as copy:
                for row in link_rows:
                    copy.write_row(row)
            return
        ops = connection.ops
        cursor.executemany(
            _SQLITE_EVENT,
            [
                (i, u.hex, ops.adapt_datetimefield_value(at), *rest)
                for i, u, at, *rest in event_rows
            ],
        )
        cursor.executemany(
            "INSERT INTO audit_chainlink (seq, event_id, hash) VALUES (%s, %s, %s)", link_rows
        )


def _reset_sequence(last_id: int) -> None:
    if connection.vendor != "postgresql" or last_id < 1:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), %s)", [last_id])
