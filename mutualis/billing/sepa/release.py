"""Steps 2 and 3 of a batch: its file, then its release.

The file is written to a temporary name beside its final one, validated against the XSD, made
durable (``fsync``), given its mode (``MUTUALIS_SEPA_FILE_MODE``, 0600) and renamed: a file under
the final name is always whole and valid. Its content depends only on the rows of the batch, so
writing it again (after a kill, or when the file was lost) gives the same bytes; once released, a
file that would come out different is refused rather than sent twice in two versions.

Release books each debit in its member's ledger (once: key ``debit:<id>``), marks the debits
sent, records each mandate's collection (it will not lapse, its pending amendment has gone
out, a one-off mandate is used up), by chunks that each commit with their audit event; then the
batch is released with the file's SHA-256 and a closing audit event. The bank that receives the
file is a declared recipient (processor) of the categories in it (``catalogue.SEPA_BANK``).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from mutualis import audit
from mutualis.billing.models import (
    BatchStatus,
    Debit,
    DebitBatch,
    DebitStatus,
    LedgerEntry,
    LedgerKind,
    Mandate,
)
from mutualis.billing.sepa import build, document
from mutualis.billing.sepa.build import BatchError
from mutualis.billing.tags import BillingTag
from mutualis.privacy import catalogue
from mutualis.vault.erased import is_erased
from mutualis.vault.models import DataKey

CHUNK = 2000


def creditor() -> document.Creditor:
    from mutualis.billing.services import creditor_identifier

    return document.Creditor(
        name=settings.MUTUALIS_ORGANISATION["name"] or "Mutuelle",
        iban=settings.MUTUALIS_SEPA_CREDITOR_IBAN,
        bic=settings.MUTUALIS_SEPA_CREDITOR_BIC,
        identifier=creditor_identifier(),
    )


def header(batch: DebitBatch) -> document.Header:
    return document.Header(
        message_id=batch.message_id,
        created_at=timezone.localtime(batch.created_at).replace(tzinfo=None),
        collection_date=batch.collection_date,
        schema=batch.format,
    )


def groups(batch: DebitBatch) -> list[document.Group]:
    rows = (
        batch.debits.values("sequence_type")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    return list(
        document.iter_sorted(
            document.Group(r["sequence_type"], r["count"], r["total"] or Decimal("0")) for r in rows
        )
    )


COLUMNS = (
    "end_to_end_id",
    "amount",
    "remittance",
    "original_mandate_reference",
    "original_account_sent",
    "original_debtor_account_changed",
    "mandate_id",
    "mandate__reference",
    "mandate__signed_at",
    "mandate__debtor_name",
    "mandate__bic",
    "mandate__iban",
    "mandate__previous_iban",
    "mandate__data_key_id",
    "mandate__data_key__wrapped_key",
    "mandate__data_key__master_key_id",
    "mandate__data_key__shredded_at",
)


def transactions(batch: DebitBatch, sequence_type: str) -> Iterator[document.Transaction]:
    """The batch's debits of one sequence type, in a stable order, with their IBANs decrypted:
    rows read as tuples (no model instances: a batch holds up to a million debits)."""
    iban_field = Mandate._meta.get_field("iban")
    zone = timezone.get_current_timezone()
    rows = (
        batch.debits.filter(sequence_type=sequence_type)
        .order_by("end_to_end_id")
        .values_list(*COLUMNS)
    )
    for (
        end_to_end_id,
        amount,
        remittance,
        original_reference,
        original_account_sent,
        new_bank,
        mandate_id,
        reference,
        signed_at,
        debtor_name,
        bic,
        iban,
        previous_iban,
        key_id,
        wrapped_key,
        master_key_id,
        shredded_at,
    ) in rows.iterator(chunk_size=CHUNK):
        if mandate_id is None:
            raise BatchError(
                f"Le mandat du prélèvement {end_to_end_id} a été supprimé (conservation "
                "échue) : le fichier de cette remise ne peut plus être écrit."
            )
        data_key = DataKey(
            id=key_id, wrapped_key=wrapped_key, master_key_id=master_key_id, shredded_at=shredded_at
        )
        plain = iban_field.unseal(iban, data_key=data_key, pk=mandate_id)
        if is_erased(plain):
            raise BatchError(
                f"Le prélèvement {end_to_end_id} vise un mandat dont l'IBAN a été effacé : "
                "retirez-le de la remise."
            )
        original_iban = ""
        if original_account_sent:
            previous_field = Mandate._meta.get_field("previous_iban")
            original_iban = previous_field.unseal(previous_iban, data_key=data_key, pk=mandate_id)
        yield document.Transaction(
            end_to_end_id=end_to_end_id,
            amount=amount,
            mandate_reference=reference,
            mandate_signed_on=signed_at.astimezone(zone).date(),
            debtor_name=debtor_name,
            iban=plain,
            bic=bic,
            remittance=remittance,
            original_mandate_reference=original_reference,
            original_iban=original_iban or "",
            new_bank=new_bank,
        )


def write_file(
    batch: DebitBatch, directory: Path, *, progress: Callable[[int], None] | None = None
) -> tuple[Path, str]:
    """Write, validate and put in place the batch's file; ``(path, sha256)``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / batch.file_name
    if batch.status == BatchStatus.RELEASED and path.exists():
        sha = _sha256(path)
        if sha == batch.file_sha256:
            return path, sha
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".prelevements-", suffix=".part")
    try:
        os.fchmod(fd, settings.MUTUALIS_SEPA_FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            sha = document.write(
                out,
                header=header(batch),
                creditor=creditor(),
                groups=groups(batch),
                transactions=lambda kind: transactions(batch, kind),
                progress=progress,
            )
            out.flush()
            os.fsync(out.fileno())
        count = document.validate(Path(temporary), batch.format)
        if count != batch.debits.count():
            raise document.InvalidDocument("le nombre de prélèvements du fichier diffère")
        if batch.file_sha256 and sha != batch.file_sha256:
            raise BatchError(
                f"Le fichier de la remise du {batch.collection_date:%d/%m/%Y} a déjà été transmis "
                f"(empreinte {batch.file_sha256}) et le fichier écrit à nouveau en diffère : il "
                "n'est pas remplacé. Un mandat a sans doute changé depuis ; voyez le service "
                "cotisations."
            )
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path, sha


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release(
    batch: DebitBatch,
    *,
    sha256: str,
    path: Path,
    actor=None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Book and mark every debit of the batch, then release it (resumable)."""
    day = batch.collection_date
    released = 0
    while True:
        with transaction.atomic():
            debits = list(
                batch.debits.select_for_update(of=("self",))
                .filter(status=DebitStatus.PENDING)
                .select_related("mandate")
                .order_by("pk")[: build.chunk_size()]
            )
            if not debits:
                break
            _release_chunk(batch, debits, day=day, actor=actor)
        released += len(debits)
        if progress:
            progress(len(debits))
    with transaction.atomic():
        batch = DebitBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == BatchStatus.RELEASED:
            return released
        totals = batch.debits.aggregate(count=Count("pk"), total=Sum("amount"))
        batch.status = BatchStatus.RELEASED
        batch.released_at = timezone.now()
        batch.debit_count = totals["count"]
        batch.total = totals["total"] or Decimal("0")
        batch.file_sha256 = sha256
        batch.save(update_fields=["status", "released_at", "debit_count", "total", "file_sha256"])
        audit.record(
            BillingTag.BATCH_RELEASE,
            actor=actor,
            target=batch,
            details={
                "collection_date": day.isoformat(),
                "debits": batch.debit_count,
                "total": str(batch.total),
                "file": path.name,
                "sha256": sha256,
                "recipient": catalogue.SEPA_BANK.code,
            },
        )
    return released


def _release_chunk(batch: DebitBatch, debits: list[Debit], *, day: datetime.date, actor) -> None:
    now = timezone.now()
    entries = [
        LedgerEntry(
            member_id=debit.member_id,
            kind=LedgerKind.DEBIT,
            amount=-debit.amount,
            booked_on=day,
            label=f"Prélèvement du {day:%d/%m/%Y}",
            debit=debit,
            reference=debit.end_to_end_id,
            idempotency_key=f"debit:{debit.pk}",
            created_at=now,
            year_end=datetime.date(day.year, 12, 31),
        )
        for debit in debits
    ]
    LedgerEntry.objects.bulk_create(entries, batch_size=1000, ignore_conflicts=True)
    ids = [d.pk for d in debits]
    Debit.objects.filter(pk__in=ids).update(status=DebitStatus.SENT)
    mandates = [d.mandate_id for d in debits]
    Mandate.objects.filter(pk__in=mandates).filter(
        Q(last_collected_on__isnull=True) | Q(last_collected_on__lt=day)
    ).update(last_collected_on=day)
    amended = [d.mandate_id for d in debits if d.amended]
    if amended:
        Mandate.objects.filter(pk__in=amended).update(amendment_pending=False)
    one_off = [d.mandate_id for d in debits if d.mandate.one_off]
    if one_off:
        Mandate.objects.filter(pk__in=one_off, ended_at__isnull=True).update(ended_at=now)
    audit.record(
        BillingTag.LEDGER_BOOK,
        actor=actor,
        target=batch,
        details={
            "kind": LedgerKind.DEBIT,
            "entries": len(entries),
            "total": str(sum((d.amount for d in debits), Decimal("0"))),
        },
    )
