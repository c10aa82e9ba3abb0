"""Verification of the audit log (read-only, streaming, bounded memory).

Three walks, each stopping at the first break it finds:

1. **The chain**, link by link in sequence order from the checkpoint to the head read at the
   start: a missing number (a link deleted), a link whose hash no longer matches (an event or a
   link modified, links reordered, an event inserted in the chain), an event whose MAC no longer
   matches its content (modified, even if the chain was rewritten after it), a link beyond the
   head (forged after it).
2. **Events not yet placed** (above the head's watermark, without a link): each must carry a
   valid MAC (modified or forged otherwise).
3. **Completeness**: every event at or below the watermark is placed. One that is not was
   inserted afterwards, with an id the sequencer had already passed; it is named.

It runs alongside writers and the sequencer without locking: on PostgreSQL the walks read one
snapshot (a read-only repeatable-read transaction); on SQLite, where one transaction writes at a
time, the completeness count is one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, transaction

from mutualis.audit.keys import AuditKeyRing, audit_key_ring
from mutualis.audit.models import CHAIN_HEAD_PK, ChainHead, link_hash
from mutualis.audit.raw import Decoder

DEFAULT_CHUNK_SIZE = 10_000


@dataclass(frozen=True)
class Break:
    """The first broken link or event: where it is and what happened, in French.

    ``seq`` is the link's number when the event was placed in the chain, None for an event not
    yet placed (then ``event_id`` names it).
    """

    seq: int | None
    reason: str
    event_id: int | None = None


@dataclass(frozen=True)
class Verification:
    checked: int
    first_break: Break | None
    pending: int = 0

    @property
    def ok(self) -> bool:
        return self.first_break is None


class _Broken(Exception):
    def __init__(self, found: Break) -> None:
        self.found = found


_LINKS = (
    "SELECT l.seq, l.hash, e.id, {columns} FROM audit_chainlink l "
    "JOIN audit_event e ON e.id = l.event_id "
    "WHERE l.seq > %s AND l.seq <= %s ORDER BY l.seq LIMIT %s"
)
_PENDING = (
    "SELECT e.id, {columns} FROM audit_event e WHERE e.id > %s AND e.id <= %s "
    "AND NOT EXISTS (SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id) "
    "ORDER BY e.id LIMIT %s"
)
_COUNTS = (
    "SELECT (SELECT COUNT(*) FROM audit_event WHERE id <= %s), "
    "(SELECT COUNT(*) FROM audit_chainlink WHERE event_id <= %s)"
)
_LEFT_OUT = (
    "SELECT e.id FROM audit_event e WHERE e.id <= %s "
    "AND NOT EXISTS (SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id) "
    "ORDER BY e.id LIMIT 1"
)


def verify_chain(
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    using: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Recompute every MAC, every link and the completeness of the log; return the first break.

    ``progress`` is called with the number of events checked so far and the number to check, once
    per chunk.
    """
    connection = connections[using]
    keys = audit_key_ring()
    with _snapshot(using), connection.cursor() as cursor:
        decode = Decoder(connection.vendor)
        head = ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).first()
        cursor.execute("SELECT MAX(id) FROM audit_event")
        last_id = cursor.fetchone()[0] or 0
        watermark = head.watermark if head else 0
        cursor.execute(
            "SELECT COUNT(*) FROM audit_event e WHERE e.id > %s AND e.id <= %s AND NOT EXISTS "
            "(SELECT 1 FROM audit_chainlink l WHERE l.event_id = e.id)",
            [watermark, last_id],
        )
        pending = cursor.fetchone()[0]
        if head is None:
            cursor.execute("SELECT MIN(seq) FROM audit_chainlink")
            first = cursor.fetchone()[0]
            if first is None and not last_id:
                return Verification(checked=0, first_break=None)
            if first is not None:
                return Verification(
                    0,
                    Break(
                        first,
                        "la tête de chaîne a disparu alors que le journal contient des événements",
                    ),
                    pending,
                )
            head = ChainHead(pk=CHAIN_HEAD_PK)  # events written, none placed yet
        count = _Count(total=head.last_seq - head.checkpoint_seq + pending, progress=progress)
        try:
            _walk_chain(cursor, head, keys, decode, chunk_size, count)
            _walk_pending(cursor, head.watermark, last_id, keys, decode, chunk_size, count)
            _check_complete(cursor, head.watermark)
        except _Broken as broken:
            return Verification(checked=count.checked, first_break=broken.found, pending=pending)
    count.tick()
    return Verification(checked=count.checked, first_break=None, pending=pending)


@dataclass
class _Count:
    """Events checked so far, reported to ``progress`` once per chunk."""

    total: int
    progress: Callable[[int, int], None] | None
    checked: int = 0

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.checked, self.total)


@contextmanager
def _snapshot(using: str) -> Iterator[None]:
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _mac_break(keys: AuditKeyRing, mac: str, content: bytes, seq, event_id) -> Break | None:
    verdict = keys.verifies(mac, content)
    where = f"l'événement n° {seq}" if seq is not None else f"l'événement {event_id} (en attente)"
    if verdict is None:
        return Break(
            seq,
            f"{where} est signé d'une clé d'audit inconnue ({mac.partition(':')[0]}) : forgé, "
            "ou clé retirée de MUTUALIS_AUDIT_KEY",
            event_id,
        )
    if not verdict:
        return Break(
            seq,
            f"{where} a été modifié : son code d'authentification ne correspond plus à son contenu",
            event_id,
        )
    return None


def _walk_chain(cursor, head: ChainHead, keys, decode: Decoder, chunk_size: int, count) -> None:
    expected = head.checkpoint_seq + 1
    prev = head.checkpoint_hash
    cursor.execute("SELECT MIN(seq) FROM audit_chainlink WHERE seq <= %s", [head.checkpoint_seq])
    early = cursor.fetchone()[0]
    if early is not None:
        raise _Broken(
            Break(
                early,
                f"l'événement n° {early} précède le point de contrôle (n° {head.checkpoint_seq}) "
                ": inséré hors de la chaîne",
            )
        )
    after = head.checkpoint_seq
    while after < head.last_seq:
        cursor.execute(_LINKS.format(columns=decode.columns), [after, head.last_seq, chunk_size])
        rows = cursor.fetchall()
        if not rows:
            break
        for seq, stored, event_id, *fields in rows:
            if seq != expected:
                raise _Broken(Break(expected, f"{_missing(expected, seq - 1)} : supprimé"))
            content, mac = decode.row(*fields)
            if keys.verifies(mac, content) is not True:
                broken = _mac_break(keys, mac, content, seq, event_id)
                assert broken is not None  # the MAC did not verify: there is a break to name
                raise _Broken(broken)
            digest = link_hash(seq=seq, event_id=event_id, prev_hash=prev, mac=mac, content=content)
            if digest != stored:
                raise _Broken(
                    Break(
                        seq,
                        f"l'événement n° {seq} ne suit pas l'événement n° {seq - 1} (empreinte "
                        "différente) : chaîne réécrite, événements réordonnés ou insérés",
                        event_id,
                    )
                )
            prev = stored
            expected += 1
            count.checked += 1
        after = rows[-1][0]
        count.tick()
    if expected <= head.last_seq:
        raise _Broken(
            Break(expected, f"{_missing(expected, head.last_seq)} : supprimé en fin de journal")
        )
    if prev != head.last_hash:
        raise _Broken(
            Break(
                head.last_seq,
                f"l'événement n° {head.last_seq} ne correspond pas à la tête de chaîne : "
                "remplacé en fin de journal",
            )
        )
    cursor.execute("SELECT MAX(seq) FROM audit_chainlink")
    highest = cursor.fetchone()[0] or 0
    cursor.execute("SELECT last_seq FROM audit_chainhead WHERE id = %s", [CHAIN_HEAD_PK])
    current = cursor.fetchone()
    if highest > (current[0] if current else head.last_seq):
        raise _Broken(
            Break(
                highest,
                f"l'événement n° {highest} est au-delà de la tête de chaîne : inséré hors de la "
                "chaîne",
            )
        )


def _walk_pending(cursor, watermark: int, last_id: int, keys, decode, chunk_size, count) -> None:
    after = watermark
    while True:
        cursor.execute(_PENDING.format(columns=decode.columns), [after, last_id, chunk_size])
        rows = cursor.fetchall()
        if not rows:
            return
        for event_id, *fields in rows:
            content, mac = decode.row(*fields)
            found = _mac_break(keys, mac, content, None, event_id)
            if found is not None:
                raise _Broken(found)
            count.checked += 1
        after = rows[-1][0]
        count.tick()


def _check_complete(cursor, watermark: int) -> None:
    cursor.execute(_COUNTS, [watermark, watermark])
    events, placed = cursor.fetchone()
    if events == placed:
        return
    cursor.execute(_LEFT_OUT, [watermark])
    (left_out,) = cursor.fetchone()
    raise _Broken(
        Break(
            None,
            f"l'événement {left_out} n'est pas dans la chaîne alors que le séquenceur a placé "
            f"tous les événements jusqu'au n° {watermark} : inséré après coup",
            left_out,
        )
    )


def _missing(first: int, last: int) -> str:
    if first == last:
        return f"l'événement n° {first} manque"
    return f"les événements n° {first} à {last} manquent"
