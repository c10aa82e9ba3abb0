"""Applying a bank report: each reject, return or refund becomes ledger entries and a line of
the cotisations service's queue, and the member is told.

The file is read whole first (:mod:`.parse`), then every line is checked against our debits — a
reference we never sent, an amount that is not the debit's, a debit not yet sent: the file is
refused whole, nothing is written. Then everything is applied in one transaction. A file imported
again (same SHA-256) changes nothing; a return already known from another report (the same debit
and kind) is skipped.

For each return: the debit's status; in the member's ledger the money that did not come (a
*rejection*, or a *refund* the account holder obtained) and the bank's fee (from the file, or
``MUTUALIS_SEPA_REJECTION_FEE``); the premiums of the debit stay unpaid, so the L221-7 sequence
takes them over; a reason after which the account or authorisation is gone (closed account, no
mandate…) ends the mandate. A refund asked within 8 weeks of the debit (MD06) is honoured as the
rulebook says; one asked later is booked all the same (the bank has paid it) and flagged for the
service to contest.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.billing import ledger
from mutualis.billing.models import (
    Debit,
    DebitReturn,
    DebitStatus,
    LedgerKind,
    Mandate,
    ReturnFile,
    ReturnKind,
    year_end,
)
from mutualis.billing.returns import codes
from mutualis.billing.returns.parse import Report, ReturnFileError, ReturnLine, read
from mutualis.billing.tags import BillingTag
from mutualis.lib.french import plural

REFUND_WINDOW = datetime.timedelta(weeks=8)  # SEPA SDD Core: refund without question
STATUS = {
    ReturnKind.REJECT: DebitStatus.REJECTED,
    ReturnKind.RETURN: DebitStatus.RETURNED,
    ReturnKind.REFUND: DebitStatus.REFUNDED,
}


@dataclass
class Outcome:
    file: ReturnFile | None
    already: bool = False
    applied: int = 0
    known: int = 0
    late_refunds: int = 0
    mandates_ended: int = 0
    members: list = field(default_factory=list)
    version: str = ""  # an XML report's message version
    validated: bool = False  # against its official schema (parse.SCHEMAS)

    def checked(self) -> str:
        """What the file was checked against, in French (for the page and the command)."""
        if not self.version:
            return ""
        if self.validated:
            return f"conforme au schéma officiel {self.version}"
        return f"version {self.version} : lue sans contrôle par son schéma officiel, non fourni"


def import_bytes(data: bytes, *, file_name: str, actor=None) -> Outcome:
    """Import one report; refused whole (:class:`ReturnFileError`) when any line is wrong."""
    try:
        return _import(data, file_name=file_name, actor=actor)
    except IntegrityError:
        # The same file, or a return of it, was imported by another session at the same
        # instant (the page and the command, two staff members) and committed first: the
        # unique constraints refused the second copy. Read again, it is known.
        return _import(data, file_name=file_name, actor=actor)


def _import(data: bytes, *, file_name: str, actor) -> Outcome:
    sha = hashlib.sha256(data).hexdigest()
    existing = ReturnFile.objects.filter(sha256=sha).first()
    if existing is not None:
        return Outcome(file=existing, already=True)
    report = read(data, file_name=file_name)
    pairs = _match(report)
    if not pairs:
        raise ReturnFileError("Le fichier ne contient aucun rejet ni retour de prélèvement.")
    with transaction.atomic():
        # The debits and the mandates concerned, locked in one order (the debits first, as a
        # batch's release locks them before it touches their mandates): two reports naming
        # them in different orders, imported at once, wait for each other instead of
        # deadlocking, and the second finds the first's returns known.
        for model, ids in (
            (Debit, {debit.pk for _, debit in pairs}),
            (Mandate, {debit.mandate_id for _, debit in pairs}),
        ):
            list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        record = ReturnFile.objects.create(
            sha256=sha,
            kind=report.kind,
            file_name=file_name[:200],
            message_id=report.message_id[:35],
            imported_by=ledger.actor_label(actor),
        )
        outcome = Outcome(file=record, version=report.version, validated=report.validated)
        for line, debit in pairs:
            _apply(record, line, debit, actor=actor, outcome=outcome)
        record.return_count = outcome.applied
        record.save(update_fields=["return_count"])
        audit.record(
            BillingTag.RETURNS_IMPORT,
            actor=actor,
            target=record,
            details={
                "format": report.kind,
                "version": report.version,
                "validated": report.validated,
                "sha256": sha,
                "returns": outcome.applied,
                "already_known": outcome.known,
            },
        )
    return outcome


def _match(report: Report) -> list[tuple[ReturnLine, Debit]]:
    """Each line with its debit; the file is refused if one does not match."""
    pairs: list[tuple[ReturnLine, Debit]] = []
    references = [line.end_to_end_id for line in report.lines if line.end_to_end_id != "*"]
    debits = {
        d.end_to_end_id: d
        for d in Debit.objects.filter(end_to_end_id__in=references).select_related(
            "batch", "member__person", "mandate"
        )
    }
    unknown = [ref for ref in references if ref not in debits]
    if unknown and len(unknown) == len(references):
        raise ReturnFileError(
            "Aucune référence de ce fichier ne correspond à un prélèvement de la mutuelle : ce "
            "fichier n'est pas le nôtre ou ne concerne pas nos remises."
        )
    if unknown:
        count = len(unknown)
        raise ReturnFileError(
            f"{count} référence{plural(count)} inconnue{plural(count)}, dont {unknown[0]!r} : le "
            "fichier est refusé en entier, rien n'a été importé."
        )
    for line in report.lines:
        if line.end_to_end_id == "*":
            batch_debits = Debit.objects.filter(
                batch__message_id=line.original_message_id
            ).select_related("batch", "member__person", "mandate")
            if not batch_debits.exists():
                raise ReturnFileError(
                    f"Rejet global de la remise {line.original_message_id!r}, qui n'est pas une "
                    "remise de la mutuelle."
                )
            pairs.extend((line, debit) for debit in batch_debits)
            continue
        debit = debits[line.end_to_end_id]
        if line.original_message_id and line.original_message_id != debit.batch.message_id:
            raise ReturnFileError(
                f"Le prélèvement {line.end_to_end_id} n'appartient pas à la remise "
                f"{line.original_message_id!r} que cite le fichier."
            )
        if debit.status == DebitStatus.PENDING:
            raise ReturnFileError(
                f"Le prélèvement {line.end_to_end_id} n'a pas encore été transmis à la banque."
            )
        if line.amount is not None and line.amount != debit.amount:
            raise ReturnFileError(
                f"Le prélèvement {line.end_to_end_id} est de {debit.amount} € ; le fichier "
                f"annonce {line.amount} €."
            )
        sent_on = timezone.localdate(debit.batch.released_at or debit.batch.created_at)
        if line.booked_on < min(sent_on, debit.batch.collection_date):
            raise ReturnFileError(
                f"Le retour du prélèvement {line.end_to_end_id} est daté d'avant sa remise."
            )
        pairs.append((line, debit))
    return pairs


def _apply(record: ReturnFile, line: ReturnLine, debit: Debit, *, actor, outcome: Outcome):
    if DebitReturn.objects.filter(debit=debit, kind=line.kind).exists():
        outcome.known += 1
        return
    late = line.kind == ReturnKind.REFUND and (
        line.booked_on > debit.batch.collection_date + REFUND_WINDOW
    )
    fee = line.fee or Decimal(settings.MUTUALIS_SEPA_REJECTION_FEE or "0")
    returned = DebitReturn.objects.create(
        file=record,
        debit=debit,
        kind=line.kind,
        reason_code=line.reason_code,
        amount=debit.amount,
        booked_on=line.booked_on,
        note=(
            "Remboursement demandé plus de 8 semaines après le prélèvement : à contester "
            "auprès de la banque."
            if late
            else ""
        ),
    )
    # The debit is kept as long as the latest record about it (ten years after that one's
    # financial year): a return booked next year moves its clock.
    later = year_end(line.booked_on)
    Debit.objects.filter(pk=debit.pk).update(
        status=STATUS[line.kind], year_end=max(debit.year_end, later)
    )
    member = debit.member
    what = codes.label(line.reason_code)
    ledger.book(
        member=member,
        kind=LedgerKind.REFUND if line.kind == ReturnKind.REFUND else LedgerKind.REJECTION,
        amount=debit.amount,
        booked_on=line.booked_on,
        label=f"Prélèvement du {debit.batch.collection_date:%d/%m/%Y} "
        f"{'remboursé' if line.kind == ReturnKind.REFUND else 'rejeté'} ({what})",
        debit=debit,
        reference=line.reason_code,
        key=f"return:{returned.pk}",
        actor=actor,
    )
    if fee > 0 and line.kind != ReturnKind.REFUND:
        ledger.book(
            member=member,
            kind=LedgerKind.FEE,
            amount=fee,
            booked_on=line.booked_on,
            label=f"Frais de rejet du prélèvement du {debit.batch.collection_date:%d/%m/%Y}",
            debit=debit,
            key=f"return:{returned.pk}:fee",
            actor=actor,
        )
    if line.reason_code in codes.ENDS_MANDATE:
        outcome.mandates_ended += Mandate.objects.filter(
            pk=debit.mandate_id, ended_at__isnull=True
        ).update(ended_at=timezone.now())
        audit.record(
            BillingTag.MANDATE_END,
            actor=actor,
            subject=member.person_id,
            target=debit.mandate,
            details={"reason": line.reason_code},
        )
    audit.record(
        BillingTag.RETURNS_IMPORT,
        actor=actor,
        subject=member.person_id,
        target=returned,
        details={"kind": line.kind, "reason": line.reason_code, "amount": str(debit.amount)},
    )
    outcome.applied += 1
    outcome.late_refunds += late
    outcome.members.append(member.pk)
    _tell(member, debit, line, fee=fee if line.kind != ReturnKind.REFUND else Decimal("0"))


def _tell(member, debit: Debit, line: ReturnLine, *, fee: Decimal) -> None:
    person = member.person
    if not person.email:
        return  # the member space shows it; the service writes by post from its queue
    body = render_to_string(
        "billing/email/return.txt",
        {
            "person": person,
            "member": member,
            "debit": debit,
            "line": line,
            "reason": codes.label(line.reason_code),
            "fee": fee,
            "refund": line.kind == ReturnKind.REFUND,
            "organisation": settings.MUTUALIS_ORGANISATION,
            "creditor_iban": settings.MUTUALIS_SEPA_CREDITOR_IBAN,
            "site_url": settings.MUTUALIS_SITE_URL.rstrip("/"),
        },
    )
    subject = (
        "Remboursement de votre prélèvement"
        if line.kind == ReturnKind.REFUND
        else "Votre prélèvement n'a pas pu être effectué"
    )
    message = EmailMessage(
        subject=f"{subject} — {settings.MUTUALIS_ORGANISATION['short_name']}",
        body=body.strip() + "\n",
        to=[person.email],
    )
    transaction.on_commit(message.send)
