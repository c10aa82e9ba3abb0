"""Step 1 of a batch: the debits of one collection date, built once.

A mandate is debited on a date when its latest notice given in time announces an amount
(:func:`mutualis.billing.prenotify.announced`) and the premiums due by then and not yet collected
add up to exactly that amount: they are linked to the new debit, and never collected again (a
rejected debit leaves them unpaid: the L221-7 sequence takes over). A mandate whose premiums do
not match what was announced is left out and counted: the next notice announces them.

The work goes by chunks of mandates, each in its own transaction with its audit event, so a
batch killed at any point resumes where it stopped; a mandate is debited once per batch (unique
constraint), a premium once ever (its ``debit`` link).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from mutualis import audit
from mutualis.billing import calendar, prenotify
from mutualis.billing.models import (
    BatchStatus,
    Debit,
    DebitBatch,
    DebitStatus,
    Instalment,
    Mandate,
    PreNotification,
    SequenceType,
)
from mutualis.billing.services import same_bank
from mutualis.billing.tags import BillingTag
from mutualis.contracts.models import Contract
from mutualis.privacy import catalogue, restrictions

CHUNK = 2000


def chunk_size() -> int:
    """Rows per transaction (``MUTUALIS_SEPA_CHUNK``, 2,000 by default)."""
    return int(getattr(settings, "MUTUALIS_SEPA_CHUNK", CHUNK)) or CHUNK


ZERO = Decimal("0.00")
# Identifiers are derived from what they name (the date, the mandate): building a batch again
# from the same data gives the same message and end-to-end identifiers, hence the same file.
IDS = uuid.UUID("6c0f4a52-3c1e-4a59-9d7e-5b0c8e2f1a47")
# A debit that reached the debtor's account (not rejected before settlement): after one, the
# mandate's next debit is recurrent.
COLLECTED = (DebitStatus.SENT, DebitStatus.RETURNED, DebitStatus.REFUNDED)


class BatchError(ValueError):
    """A batch that cannot be built or released as asked (the message says why, in French)."""


@dataclass
class Built:
    debits: int = 0
    total: Decimal = ZERO
    mismatched: int = 0  # premiums due that differ from what was announced: postponed


def open_batch(collection_date: datetime.date, schema: str) -> tuple[DebitBatch, bool]:
    """The batch of ``collection_date``, created on first use; ``(batch, created)``."""
    existing = DebitBatch.objects.filter(collection_date=collection_date).first()
    if existing is not None:
        if existing.format != schema:
            raise BatchError(
                f"La remise du {collection_date:%d/%m/%Y} existe déjà au format {existing.format}"
                f" : elle ne peut pas être refaite au format {schema}."
            )
        return existing, False
    key = uuid.uuid5(IDS, f"batch:{collection_date.isoformat()}")
    batch = DebitBatch(
        id=key,
        collection_date=collection_date,
        format=schema,
        message_id=f"PRLV-{collection_date:%Y%m%d}-{key.hex[:12].upper()}",
    )
    batch.file_name = f"prelevements-{collection_date:%Y-%m-%d}.xml"
    with transaction.atomic():
        batch.save()
        audit.record(
            BillingTag.BATCH_BUILD,
            target=batch,
            details={"collection_date": collection_date.isoformat(), "format": schema},
        )
    return batch, True


def candidates(batch: DebitBatch):
    """Mandates with an amount announced in time for the batch's date, not debited in it yet,
    whose holder's processing is not restricted (GDPR art. 18)."""
    day = batch.collection_date
    in_time = PreNotification.objects.filter(
        mandate=OuterRef("pk"),
        collection_date=day,
        created_at__date__lte=calendar.latest_notice_day(day),
    )
    mandates = (
        Mandate.objects.current()
        .filter(signed_at__date__lte=day)
        .filter(Exists(in_time))
        .exclude(Exists(Debit.objects.filter(batch=batch, mandate=OuterRef("pk"))))
    )
    return restrictions.exclude_restricted(
        mandates, purpose=catalogue.CONTRACT, subject_field="member__person"
    )


def build(batch: DebitBatch, *, actor=None, progress: Callable[[int], None] | None = None) -> Built:
    """Add the debits of every candidate mandate to the batch (resumable)."""
    if batch.status != BatchStatus.BUILDING:
        raise BatchError("Cette remise a déjà été transmise : elle ne change plus.")
    built = Built()
    last = None
    while True:
        chunk = candidates(batch).order_by("pk")
        if last is not None:
            chunk = chunk.filter(pk__gt=last)
        mandates = list(chunk.select_related("member")[: chunk_size()])
        if not mandates:
            return built
        last = mandates[-1].pk
        _build_chunk(batch, mandates, built=built, actor=actor)
        if progress:
            progress(len(mandates))


def _build_chunk(batch: DebitBatch, mandates: list[Mandate], *, built: Built, actor) -> None:
    day = batch.collection_date
    notices: dict = defaultdict(list)
    for mandate_id, *notice in prenotify.notice_rows(
        PreNotification.objects.filter(mandate__in=mandates, collection_date=day), "mandate_id"
    ):
        notices[mandate_id].append(tuple(notice))
    members = [m.member_id for m in mandates]
    with transaction.atomic():
        dues: dict = defaultdict(list)
        for pk, member_id, month, amount in (
            Instalment.objects.select_for_update(of=("self",))
            .filter(
                member_id__in=members,
                debit__isnull=True,
                amount__gt=0,
                due_date__lte=day,
            )
            .values_list("pk", "member_id", "month", "amount")
        ):
            dues[member_id].append((pk, month, amount))
        first = _first_debits(mandates, day)
        final = _final_members(members, day)
        debits: list[Debit] = []
        links: dict = {}
        for mandate in mandates:
            owed = dues.get(mandate.member_id, [])
            total = sum((amount for _, _, amount in owed), ZERO)
            announced = prenotify.matured(notices[mandate.pk], day)
            if not owed or total != announced:
                built.mismatched += bool(owed or announced)
                continue
            debit = _debit(batch, mandate, owed, total, first=mandate.pk in first)
            if mandate.member_id in final and debit.sequence_type == SequenceType.RECURRING:
                debit.sequence_type = SequenceType.FINAL
            debits.append(debit)
            links[debit.pk] = [pk for pk, _, _ in owed]
        if not debits:
            return
        Debit.objects.bulk_create(debits, batch_size=1000)
        linked = Instalment.objects.filter(
            pk__in=[pk for ids in links.values() for pk in ids]
        ).update(
            debit=Subquery(
                Debit.objects.filter(batch=batch, member_id=OuterRef("member_id")).values("pk")[:1]
            )
        )
        if linked != sum(len(ids) for ids in links.values()):
            raise BatchError("Des échéances ont changé pendant la préparation de la remise.")
        chunk_total = sum((d.amount for d in debits), ZERO)
        audit.record(
            BillingTag.BATCH_BUILD,
            actor=actor,
            target=batch,
            details={"debits": len(debits), "total": str(chunk_total), "premiums": linked},
        )
    built.debits += len(debits)
    built.total += chunk_total


def _debit(batch, mandate: Mandate, owed, total: Decimal, *, first: bool) -> Debit:
    months = sorted({month for _, month, _ in owed})
    label = ", ".join(f"{m:%m/%Y}" for m in months[:6]) + (" …" if len(months) > 6 else "")
    debit = Debit(
        id=uuid.uuid5(IDS, f"debit:{batch.collection_date.isoformat()}:{mandate.pk}"),
        batch=batch,
        mandate=mandate,
        member_id=mandate.member_id,
        amount=total,
        remittance=f"Cotisations {label} - adherent {mandate.member.number}"[:140],
        created_at=timezone.now(),
        year_end=datetime.date(batch.collection_date.year, 12, 31),
    )
    debit.end_to_end_id = debit.id.hex.upper()
    if mandate.amendment_pending:
        if mandate.previous_reference and mandate.previous_reference != mandate.reference:
            debit.original_mandate_reference = mandate.previous_reference
        if mandate.previous_iban:
            if same_bank(mandate.previous_iban, mandate.iban):
                debit.original_account_sent = True
            else:
                debit.original_debtor_account_changed = True
    if mandate.one_off:
        debit.sequence_type = SequenceType.ONE_OFF
    elif first or debit.original_debtor_account_changed:
        # A first debit, or the first one at a new bank (SMNDA): FRST, always accepted.
        debit.sequence_type = SequenceType.FIRST
    else:
        debit.sequence_type = SequenceType.RECURRING
    return debit


def _first_debits(mandates: list[Mandate], day: datetime.date) -> set:
    """Mandates none of whose earlier debits reached the account."""
    collected = set(
        Debit.objects.filter(
            mandate__in=mandates, status__in=COLLECTED, batch__collection_date__lt=day
        ).values_list("mandate_id", flat=True)
    )
    return {m.pk for m in mandates} - collected


def _final_members(members: list, day: datetime.date) -> set:
    """Members whose contracts all end and owe nothing after ``day``: this debit is their last
    (FNAL)."""
    ongoing = set(
        Contract.objects.filter(member_id__in=members, end_date__isnull=True).values_list(
            "member_id", flat=True
        )
    )
    later = set(
        Instalment.objects.filter(
            member_id__in=members, due_date__gt=day, amount__gt=0
        ).values_list("member_id", flat=True)
    )
    return set(members) - ongoing - later
