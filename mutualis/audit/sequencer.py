"""The sequencer: gives committed audit events their place in the hash chain, in batches.

Writers only insert (:func:`mutualis.audit.services.record`); this is the one place the chain
grows. A batch, in one transaction: lock the chain head, read the oldest committed events above
the head's watermark that have no link yet, give each the next sequence number and a link hash
covering that number, the previous hash, the event's id, its MAC and its content, write the
links, move the head. Because the head is locked, two sequencers (two hosts, a timer and a
service) never place the same event twice nor fork the chain; the second one finds the head busy
and leaves the work to the first (``skip_locked``).

The order of the chain is the order of placement, fixed after commit, as verifiable logs that take
high write rates do (a sequencer integrating queued entries in batches). Until it is placed, an
event is protected by its keyed MAC; ``audit_verify`` checks both.

**The watermark.** Event ids come from a sequence, but transactions commit in any order: when the
sequencer passes, an event with a lower id than those it places may still be uncommitted. The
watermark is the id up to which every event is known to be placed, so that a pass reads only
above it. On PostgreSQL a pass notes the highest id drawn so far (``horizon_id``, read first) and
the snapshot's ``xmax`` (``horizon_xmax``, read next): every transaction that drew an id up to
``horizon_id`` had its transaction id before then (the writer's INSERT takes one before drawing
the event's id), so is below ``horizon_xmax``. A later pass whose snapshot ``xmin`` has reached
``horizon_xmax`` knows all of them have ended; once it has placed every committed event above the
watermark, it raises the watermark to ``horizon_id``. A full batch has placed every committed
event up to the last one it placed: it raises the watermark that far (never past
``horizon_id``), so that draining a backlog does not read again, batch after batch, what the
batches before placed. A long-running writing transaction only delays the watermark (the
passes then read a wider range), never a placement. On SQLite a
transaction holds the database's write lock from its start, so the sequencer's own transaction
sees every event that will ever have a lower id: the watermark follows the last placed id.
"""

from __future__ import annotations

from django.db import connections, transaction

from mutualis.audit.models import CHAIN_HEAD_PK, GENESIS_HASH, ChainHead, ChainLink, link_hash
from mutualis.audit.raw import Decoder

DEFAULT_BATCH_SIZE = 5000
# A following sequencer (``audit_sequence --follow``) pauses this long after any pass that left
# no backlog (a batch not full), so that under a steady flow of writers each pass places in one
# transaction what arrived during the pause, instead of one transaction for every few events.
# It bounds how long a new event waits for its place.
FOLLOW_PAUSE = 0.5

# The highest event id drawn so far by any session (sequences are not transactional).
_LAST_DRAWN = "SELECT pg_sequence_last_value(pg_get_serial_sequence('audit_event', 'id')::regclass)"
# The oldest committed events above the watermark that have no link yet (see mutualis.audit.raw).
_UNPLACED = (
    "SELECT e.id, {columns} FROM audit_event e WHERE e.id > %s "
    "AND NOT EXISTS (SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id) "
    "ORDER BY e.id LIMIT %s"
)


def locked_head(using: str = "default", *, skip_locked: bool = False) -> ChainHead | None:
    """Lock the chain head for the rest of the transaction, creating it on first use.

    With ``skip_locked``, returns None at once when another transaction holds it.
    """
    heads = ChainHead.objects.using(using).select_for_update(skip_locked=skip_locked)
    head = heads.filter(pk=CHAIN_HEAD_PK).first()
    if head is not None:
        return head
    if skip_locked and ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).exists():
        return None  # it exists: someone else holds it
    # First event ever (or a test database just emptied): start from the last link, if any. A
    # concurrent creator makes this INSERT a no-op; then we wait for (or skip) its lock.
    last = ChainLink.objects.using(using).order_by("-seq").only("seq", "hash").first()
    ChainHead.objects.using(using).bulk_create(
        [
            ChainHead(
                pk=CHAIN_HEAD_PK,
                last_seq=last.seq if last else 0,
                last_hash=last.hash if last else GENESIS_HASH,
            )
        ],
        ignore_conflicts=True,
    )
    return heads.filter(pk=CHAIN_HEAD_PK).first()


def unplaced(watermark: int, limit: int, using: str = "default") -> list[tuple[int, bytes, str]]:
    """Events above ``watermark`` without a link, oldest id first, at most ``limit``
    (committed ones only): (id, canonical content, MAC)."""
    connection = connections[using]
    decode = Decoder(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(_UNPLACED.format(columns=decode.columns), [watermark, limit])
        return [(row[0], *decode.row(*row[1:])) for row in cursor.fetchall()]


def sequence(*, batch_size: int = DEFAULT_BATCH_SIZE, using: str = "default") -> int:
    """Place one batch of committed events in the chain; returns how many were placed.

    0 when nothing waits, or when another sequencer holds the head (it will place them).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    connection = connections[using]
    with transaction.atomic(using=using):
        head = locked_head(using, skip_locked=True)
        if head is None:
            return 0
        horizon = _horizon(connection)
        events = unplaced(head.watermark, batch_size, using)
        seq, prev = head.last_seq, head.last_hash
        links: list[tuple[int, int, str]] = []
        for event_id, content, mac in events:
            seq += 1
            prev = link_hash(seq=seq, event_id=event_id, prev_hash=prev, mac=mac, content=content)
            links.append((seq, event_id, prev))
        _write_links(connection, links)
        moved = {"last_seq": seq, "last_hash": prev}
        # A batch not full placed every committed event above the watermark; a full one, every
        # committed event up to the last it placed.
        complete = len(events) < batch_size
        moved.update(_raised_watermark(head, horizon, events, complete=complete))
        if links or moved.keys() - {"last_seq", "last_hash"}:
            ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).update(**moved)
    return len(links)


# The links are written without the ORM: building a model instance per link and binding its
# values through bulk_create cost the sequencer more CPU than hashing the events. The model keeps
# their shape; ``audit_verify`` reads them back through it.
_COPY_LINKS = "COPY audit_chainlink (seq, event_id, hash) FROM STDIN"
_INSERT_LINK = "INSERT INTO audit_chainlink (seq, event_id, hash) VALUES (%s, %s, %s)"


def _write_links(connection, links: list[tuple[int, int, str]]) -> None:
    if not links:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(_COPY_LINKS) as copy:
                for link in links:
                    copy.write_row(link)
        else:
            cursor.executemany(_INSERT_LINK, links)


def _horizon(connection) -> tuple[int, int, int] | None:
    """PostgreSQL: (highest id drawn so far, snapshot xmin, snapshot xmax), read in this order."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_LAST_DRAWN)
        drawn = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint "
            "FROM pg_current_snapshot() AS s"
        )
        xmin, xmax = cursor.fetchone()
    return drawn, xmin, xmax


def _raised_watermark(head: ChainHead, horizon, events, *, complete: bool) -> dict:
    """The head's new watermark and horizon after a pass that placed ``events``.

    ``complete``: the pass placed every committed event above the watermark. Otherwise (a full
    batch, a backlog being drained) it placed every committed event up to the last of ``events``,
    and the watermark may rise that far, so that the next batches do not read again what this
    one placed.
    """
    reached = events[-1][0] if events else head.watermark
    if horizon is None:  # SQLite: no transaction can still hold a lower id
        return {"watermark": max(head.watermark, reached)}
    drawn, xmin, xmax = horizon
    moved: dict = {}
    if head.horizon_xmax is not None and head.horizon_xmax > xmax:
        head.horizon_xmax = None  # another cluster's transaction ids (a restore): start again
    if head.horizon_xmax is not None and xmin >= head.horizon_xmax:
        # Every transaction that drew an id up to horizon_id has ended: committed, such an
        # event was seen by this pass.
        horizon_id = head.horizon_id or 0
        moved["watermark"] = max(
            head.watermark, horizon_id if complete else min(horizon_id, reached)
        )
        if moved["watermark"] >= horizon_id:
            head.horizon_xmax = None
    if head.horizon_xmax is None:
        moved.update(horizon_id=drawn, horizon_xmax=xmax)
    return moved


def sequence_all(*, batch_size: int = DEFAULT_BATCH_SIZE, using: str = "default") -> int:
    """Place every committed event (batch after batch); returns how many were placed."""
    total = 0
    while placed := sequence(batch_size=batch_size, using=using):
        total += placed
    return total
