"""The member's account with the mutuelle: every amount due or received is one ledger entry.

The balance on a day is the sum of the entries booked up to that day (positive: the member owes),
computed by the database each time it is asked: no stored counter can drift from the entries.
Amounts are :class:`~decimal.Decimal` rounded to the cent; a float is refused.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from mutualis import audit
from mutualis.billing.models import LedgerEntry, LedgerKind
from mutualis.billing.tags import BillingTag
from mutualis.members.models import Member

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Money received is booked negative, money owed positive (see the models' sign convention).
RECEIVED = frozenset({LedgerKind.DEBIT, LedgerKind.CHEQUE, LedgerKind.TRANSFER})


def cents(amount: Decimal | int | str) -> Decimal:
    """``amount`` as a Decimal with two places (half up). Floats are refused: they are not exact."""
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal, never float")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def book(
    *,
    member: Member,
    kind: str,
    amount: Decimal,
    booked_on: datetime.date,
    label: str,
    contract=None,
    instalment=None,
    debit=None,
    reference: str = "",
    key: str | None = None,
    actor=None,
) -> tuple[LedgerEntry, bool]:
    """Book one entry, audited in the same transaction; ``(entry, created)``.

    ``amount`` is the size of the movement (positive); its sign follows ``kind``. With ``key``,
    booking the same fact twice returns the first entry and books nothing.
    """
    value = cents(amount)
    if value <= 0:
        raise ValueError("Le montant doit être positif.")
    if kind in RECEIVED:
        value = -value
    with transaction.atomic():
        if key is not None:
            existing = LedgerEntry.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing, False
        entry = LedgerEntry(
            member=member,
            kind=kind,
            amount=value,
            booked_on=booked_on,
            label=label[:200],
            contract=contract,
            instalment=instalment,
            debit=debit,
            reference=reference[:64],
            idempotency_key=key,
            created_by=actor_label(actor),
        )
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            # A concurrent run booked the same fact first: that entry stands.
            if key is None:
                raise
            return LedgerEntry.objects.get(idempotency_key=key), False
        audit.record(
            BillingTag.LEDGER_BOOK,
            actor=actor,
            subject=member.person_id,
            target=entry,
            details={"kind": kind, "amount": str(value), "booked_on": booked_on.isoformat()},
        )
    return entry, True


def balance(member: Member, *, on: datetime.date | None = None) -> Decimal:
    """What the member owes on ``on`` (today by default): negative when in credit."""
    day = on or timezone.localdate()
    total = (
        LedgerEntry.objects.filter(member=member, booked_on__lte=day)
        .aggregate(total=Sum("amount"))
        .get("total")
    )
    return cents(total or ZERO)


def entries(member: Member, *, until: datetime.date | None = None):
    """The member's entries in booking order, up to ``until`` when given."""
    qs = LedgerEntry.objects.filter(member=member)
    if until is not None:
        qs = qs.filter(booked_on__lte=until)
    return qs.order_by("booked_on", "created_at")


def actor_label(actor) -> str:
    if actor is None:
        return ""
    name = getattr(actor, "display_name", "") or getattr(actor, "email", "")
    return str(name or actor)[:150]
