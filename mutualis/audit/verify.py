"""Verification of the audit chain (read-only).

The walk reads events in ``seq`` order, one chunk at a time (constant memory), and stops at the
first broken link: an event whose content no longer matches its hash (modified), a missing
sequence number (deleted), an event stored after a later one (inserted out of order), or an event
outside the chain recorded by the head (deleted at the end, or forged beyond it).

It runs without locking, alongside writers: the head is read first and only events up to it are
walked; they were all committed before the head was read, since an event and its head update are
committed together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Max

from mutualis.audit.models import CHAIN_HEAD_PK, ChainHead, Event

DEFAULT_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Break:
    """The first broken link: its sequence number and what happened, in French."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _walk(after: int, upto: int, chunk_size: int, using: str) -> Iterator[Event]:
    while after < upto:
        chunk = list(
            Event.objects.using(using)
            .filter(seq__gt=after, seq__lte=upto)
            .order_by("seq")[:chunk_size]
        )
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].seq


def _missing(first: int, last: int) -> str:
    if first == last:
        return f"l'événement n° {first} manque"
    return f"les événements n° {first} à {last} manquent"


def verify_chain(
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    using: str = "default",
    progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Recompute every hash and every link of the chain; return the first break, if any.

    ``progress`` is called with the number of events checked so far and the number to check, once
    per chunk.
    """
    head = ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).first()
    events = Event.objects.using(using)
    if head is None:
        first = events.order_by("seq").first()
        if first is None:
            return Verification(checked=0, first_break=None)
        return Verification(
            checked=0,
            first_break=Break(
                first.seq,
                "la tête de chaîne a disparu alors que le journal contient des événements",
            ),
        )

    early = events.filter(seq__lte=head.checkpoint_seq).order_by("seq").first()
    if early is not None:
        return Verification(
            checked=0,
            first_break=Break(
                early.seq,
                f"l'événement n° {early.seq} précède le point de contrôle "
                f"(n° {head.checkpoint_seq}) : inséré hors de la chaîne",
            ),
        )

    total = head.last_seq - head.checkpoint_seq
    expected_seq = head.checkpoint_seq + 1
    prev_hash = head.checkpoint_hash
    prev_pk: int | None = None
    checked = 0

    def broken(seq: int, reason: str) -> Verification:
        return Verification(checked=checked, first_break=Break(seq, reason))

    for event in _walk(head.checkpoint_seq, head.last_seq, chunk_size, using):
        if event.seq != expected_seq:
            return broken(
                expected_seq,
                f"{_missing(expected_seq, event.seq - 1)} : supprimé avant l'événement "
                f"n° {event.seq}",
            )
        if prev_pk is not None and event.pk < prev_pk:
            return broken(
                event.seq - 1,
                f"l'événement n° {event.seq - 1} a été enregistré après l'événement "
                f"n° {event.seq} : inséré hors d'ordre",
            )
        if event.compute_hash() != event.hash:
            return broken(
                event.seq,
                f"l'événement n° {event.seq} a été modifié : son empreinte ne correspond plus "
                "à son contenu",
            )
        if event.prev_hash != prev_hash:
            return broken(
                event.seq,
                f"l'événement n° {event.seq} ne suit pas l'événement n° {event.seq - 1} "
                "(empreinte précédente différente) : chaîne réécrite ou événement inséré hors "
                "d'ordre",
            )
        prev_hash = event.hash
        prev_pk = event.pk
        expected_seq += 1
        checked += 1
        if progress is not None and checked % chunk_size == 0:
            progress(checked, total)

    if expected_seq <= head.last_seq:
        return broken(
            expected_seq,
            f"{_missing(expected_seq, head.last_seq)} : supprimé en fin de journal",
        )
    if prev_hash != head.last_hash:
        return broken(
            head.last_seq,
            f"l'événement n° {head.last_seq} ne correspond pas à la tête de chaîne : "
            "remplacé en fin de journal",
        )

    # Read the highest number before the head again: a legitimate event is committed with its
    # head update, so the head read afterwards always covers it. One beyond it was not appended
    # through record().
    highest = events.aggregate(highest=Max("seq"))["highest"] or 0
    current = ChainHead.objects.using(using).get(pk=CHAIN_HEAD_PK)
    if highest > current.last_seq:
        return broken(
            highest,
            f"l'événement n° {highest} est au-delà de la tête de chaîne (n° {current.last_seq}) : "
            "inséré hors de la chaîne",
        )
    if progress is not None:
        progress(checked, total)
    return Verification(checked=checked, first_break=None)
