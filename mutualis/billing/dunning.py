"""Unpaid premiums, followed as the Code de la mutualité (art. L221-7) orders.

- a premium unpaid **10 days** after its due date may be the object of a formal notice (*mise en
  demeure*); with ``MUTUALIS_DUNNING_AUTOMATIC_NOTICE`` (the default) it is sent that day;
- the cover is **suspended 30 days after the notice** if the premium is still unpaid;
- the contract **may be terminated 10 days after** the suspension began: a decision of the
  cotisations service, from its queue;
- once everything due is paid, the cover is **restored at noon the day after the payment**.

Dates are days of the mutuelle's time zone (``TIME_ZONE``, Europe/Paris). A premium is unpaid
when the money received (debits, cheques, transfers, less what was rejected or refunded) does not
cover it, taking premiums in the order they fell due; a premium waiting for a debit already
announced is not unpaid. While a payment plan granted by the service runs, the steps wait.

Every step writes its letter (:mod:`mutualis.billing.letters`) and is audited in the same
transaction. :func:`cover_suspended` is the rule the one reader of cover status
(:mod:`mutualis.contracts.cover`) applies, so the member space, the back office, the health
professionals' rights check and the scheme exchange all see a suspension when it starts.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from mutualis import audit
from mutualis.billing import ledger, letters, schedule
from mutualis.billing.models import (
    DebitStatus,
    DunningCase,
    DunningStage,
    Instalment,
    LedgerEntry,
    LedgerKind,
    LetterKind,
    Mandate,
    PaymentPlan,
)
from mutualis.billing.tags import BillingTag
from mutualis.contracts.models import Contract
from mutualis.members.models import Member

NOTICE_AFTER = datetime.timedelta(days=10)  # L221-7 al. 1: ten days after the due date
SUSPENSION_AFTER = datetime.timedelta(days=30)  # L221-7 al. 2: thirty days after the notice
TERMINATION_AFTER = datetime.timedelta(days=10)  # L221-7 al. 3: ten days after that
ZERO = Decimal("0.00")
OPEN = (DunningStage.OVERDUE, DunningStage.NOTICE, DunningStage.SUSPENDED)
OWED = (LedgerKind.PREMIUM, LedgerKind.FEE, LedgerKind.REFUND)
PAID = (LedgerKind.DEBIT, LedgerKind.CHEQUE, LedgerKind.TRANSFER)


class DunningError(ValueError):
    """A step the law or the case's state does not allow now (message in French)."""


def zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def notice_possible_on(case: DunningCase) -> datetime.date:
    return case.due_date + NOTICE_AFTER


def suspension_on(case: DunningCase) -> datetime.date | None:
    return case.notice_sent_on + SUSPENSION_AFTER if case.notice_sent_on else None


def termination_possible_on(case: DunningCase) -> datetime.date | None:
    return case.suspended_from + TERMINATION_AFTER if case.suspended_from else None


def restoration_at(paid_on: datetime.date) -> datetime.datetime:
    """Noon, in the mutuelle's time zone, of the day after the full payment (L221-7 al. 4)."""
    day = paid_on + datetime.timedelta(days=1)
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=zone())


def cover_suspended(contract: Contract, at: datetime.datetime) -> bool:
    """Whether a suspension for unpaid premiums stops ``contract``'s cover at ``at``."""
    if contract._state.adding:
        return False
    day = timezone.localdate(at)
    for case in contract.dunning_cases.all():
        if case.suspended_from is None or case.suspended_from > day:
            continue
        if case.restored_at is None or at < case.restored_at:
            return True
    return False


# --- What is unpaid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unpaid:
    amount: Decimal
    since: datetime.date  # the due date of the oldest premium not covered
    contract_id: object | None


def awaiting_collection(member: Member) -> set:
    """Premiums that a debit will still collect: not yet in a debit while a mandate runs, or
    in a debit not yet sent to the bank."""
    has_mandate = Mandate.objects.filter(member=member).current().exists()
    pending = Q(debit__status=DebitStatus.PENDING)
    if has_mandate:
        pending |= Q(debit__isnull=True)
    return set(
        Instalment.objects.filter(member=member).filter(pending).values_list("pk", flat=True)
    )


def unpaid(member: Member, *, on: datetime.date) -> Unpaid | None:
    """What the member owes on ``on`` beyond what debits will still collect, and since when."""
    waiting = awaiting_collection(member)
    received = ZERO
    owed: list[tuple[datetime.date, Decimal, object]] = []
    for kind, amount, booked_on, instalment_id, contract_id in (
        LedgerEntry.objects.filter(member=member, booked_on__lte=on)
        .order_by("booked_on", "created_at")
        .values_list("kind", "amount", "booked_on", "instalment_id", "contract_id")
    ):
        if kind in PAID:
            received -= amount  # booked negative
        elif kind == LedgerKind.REJECTION:
            received -= amount  # money that did not come after all
        elif kind == LedgerKind.ADJUSTMENT:
            if amount < 0:
                received -= amount
            else:
                owed.append((booked_on, amount, contract_id))
        elif kind in OWED and instalment_id not in waiting:
            owed.append((booked_on, amount, contract_id))
    left = received
    for day, amount, contract_id in owed:
        if left >= amount:
            left -= amount
            continue
        total = sum((a for _, a, _ in owed), ZERO) - received
        return Unpaid(amount=ledger.cents(total), since=day, contract_id=contract_id)
    return None


def last_payment_day(member: Member, *, on: datetime.date) -> datetime.date:
    day = (
        LedgerEntry.objects.filter(member=member, kind__in=PAID, booked_on__lte=on)
        .order_by("-booked_on")
        .values_list("booked_on", flat=True)
        .first()
    )
    return day or on


# --- The daily run -----------------------------------------------------------------------------


@dataclass
class Outcome:
    opened: int = 0
    notices: int = 0
    suspended: int = 0
    settled: int = 0
    restored: int = 0
    to_terminate: list = field(default_factory=list)


def members_owing(on: datetime.date) -> Iterable[Member]:
    owing = (
        LedgerEntry.objects.filter(booked_on__lte=on)
        .values("member_id")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values("member_id")
    )
    return Member.objects.filter(pk__in=owing).select_related("person")


def advance(*, today: datetime.date, actor=None) -> Outcome:
    """Open the cases of new unpaid premiums, take each open case one step as far as the law
    allows today, settle (and restore) those paid. Idempotent."""
    outcome = Outcome()
    for member in members_owing(today).iterator(chunk_size=500):
        if DunningCase.objects.filter(contract__member=member, stage__in=OPEN).exists():
            continue
        due = unpaid(member, on=today)
        if (
            due is not None
            and today > due.since
            and open_case(member=member, due=due, today=today, actor=actor)
        ):
            outcome.opened += 1
    cases = DunningCase.objects.filter(stage__in=OPEN).select_related("contract__member__person")
    for case in cases.iterator(chunk_size=500):
        _step(case, today=today, actor=actor, outcome=outcome)
    return outcome


def open_case(*, member: Member, due: Unpaid, today: datetime.date, actor=None):
    contract = _contract_for(member, due, today)
    if contract is None:
        return None  # no contract in force: the debt is recovered otherwise
    with transaction.atomic():
        case = DunningCase.objects.create(contract=contract, due_date=due.since, amount=due.amount)
        audit.record(
            BillingTag.DUNNING_OPEN,
            actor=actor,
            subject=member.person_id,
            target=case,
            details={"due_date": due.since.isoformat(), "amount": str(due.amount)},
        )
    return case


def _contract_for(member: Member, due: Unpaid, today: datetime.date) -> Contract | None:
    contracts = Contract.objects.filter(member=member).active_on(today)
    if due.contract_id is not None:
        chosen = contracts.filter(pk=due.contract_id).first()
        if chosen is not None:
            return chosen
    return contracts.order_by("start_date").first()


def _step(case: DunningCase, *, today: datetime.date, actor, outcome: Outcome) -> None:
    member = case.contract.member
    due = unpaid(member, on=today)
    if due is None:
        restored = settle(case, paid_on=last_payment_day(member, on=today), actor=actor)
        outcome.settled += 1
        outcome.restored += restored
        return
    if case.amount != due.amount:
        DunningCase.objects.filter(pk=case.pk).update(amount=due.amount)
        case.amount = due.amount
    if active_plan(case) is not None:
        return
    if case.stage == DunningStage.OVERDUE:
        if settings.MUTUALIS_DUNNING_AUTOMATIC_NOTICE and today >= notice_possible_on(case):
            send_notice(case, today=today, actor=actor)
            outcome.notices += 1
    elif case.stage == DunningStage.NOTICE:
        if today >= suspension_on(case):
            _suspend(case, actor=actor)
            outcome.suspended += 1
    elif case.stage == DunningStage.SUSPENDED and today >= termination_possible_on(case):
        outcome.to_terminate.append(case.pk)


def active_plan(case: DunningCase) -> PaymentPlan | None:
    return case.plans.filter(ended_at__isnull=True).first()


# --- The steps ---------------------------------------------------------------------------------


def _locked(case: DunningCase) -> DunningCase:
    return (
        DunningCase.objects.select_for_update().select_related("contract__member").get(pk=case.pk)
    )


def send_notice(case: DunningCase, *, today: datetime.date, actor=None) -> DunningCase:
    """The formal notice (mise en demeure), possible 10 days after the due date."""
    if today < notice_possible_on(case):
        raise DunningError(
            "La mise en demeure n'est possible que dix jours après l'échéance impayée, soit à "
            f"partir du {notice_possible_on(case):%d/%m/%Y} (C. mutualité L221-7)."
        )
    with transaction.atomic():
        case = _locked(case)
        if case.stage != DunningStage.OVERDUE:
            raise DunningError("La mise en demeure de cet impayé a déjà été envoyée.")
        case.stage = DunningStage.NOTICE
        case.notice_sent_on = today
        case.save(update_fields=["stage", "notice_sent_on"])
        _audit(BillingTag.DUNNING_NOTICE, case, actor, {"notice_sent_on": today.isoformat()})
        letters.issue(case, LetterKind.NOTICE, actor=actor)
    return case


def _suspend(case: DunningCase, *, actor=None) -> DunningCase:
    with transaction.atomic():
        case = _locked(case)
        if case.stage != DunningStage.NOTICE:
            return case
        case.stage = DunningStage.SUSPENDED
        case.suspended_from = suspension_on(case)
        case.save(update_fields=["stage", "suspended_from"])
        _audit(
            BillingTag.DUNNING_SUSPEND,
            case,
            actor,
            {"suspended_from": case.suspended_from.isoformat()},
        )
        letters.issue(case, LetterKind.SUSPENSION, actor=actor)
    return case


def terminate(case: DunningCase, *, today: datetime.date, actor) -> DunningCase:
    """Terminate the contract, possible 10 days after the suspension began: its cover ends that
    day and the premiums of the following months are cancelled."""
    possible = termination_possible_on(case)
    if case.stage != DunningStage.SUSPENDED or possible is None:
        raise DunningError("Seul un contrat dont les garanties sont suspendues peut être résilié.")
    if today < possible:
        raise DunningError(
            "La résiliation n'est possible que dix jours après le début de la suspension, soit à "
            f"partir du {possible:%d/%m/%Y} (C. mutualité L221-7)."
        )
    with transaction.atomic():
        case = _locked(case)
        if case.stage != DunningStage.SUSPENDED:
            raise DunningError("Ce dossier n'est plus au stade de la suspension.")
        case.stage = DunningStage.TERMINATED
        case.terminated_on = today
        case.save(update_fields=["stage", "terminated_on"])
        contract = case.contract
        contract.end_date = today
        contract.save(update_fields=["end_date"])
        schedule.recompute(
            contract, from_month=today, reason="résiliation pour impayé", actor=actor
        )
        _audit(BillingTag.DUNNING_TERMINATE, case, actor, {"terminated_on": today.isoformat()})
        letters.issue(case, LetterKind.TERMINATION, actor=actor)
    return case


def settle(case: DunningCase, *, paid_on: datetime.date, actor=None) -> bool:
    """Close a paid case; a suspended cover is restored at noon the day after the payment.
    Returns whether a cover was restored."""
    with transaction.atomic():
        case = _locked(case)
        if case.stage not in OPEN:
            return False
        restored = case.stage == DunningStage.SUSPENDED
        case.stage = DunningStage.SETTLED
        case.settled_on = paid_on
        fields = ["stage", "settled_on"]
        if restored:
            case.restored_at = restoration_at(paid_on)
            fields.append("restored_at")
        case.save(update_fields=fields)
        case.plans.filter(ended_at__isnull=True).update(ended_at=timezone.now())
        _audit(
            BillingTag.DUNNING_SETTLE,
            case,
            actor,
            {
                "settled_on": paid_on.isoformat(),
                "restored_at": case.restored_at.isoformat() if restored else "",
            },
        )
        if restored:
            letters.issue(case, LetterKind.RESTORATION, actor=actor)
    return restored


def record_payment(
    *,
    member: Member,
    kind: str,
    amount: Decimal,
    paid_on: datetime.date,
    reference: str,
    actor,
) -> object:
    """A cheque or a transfer received by the cotisations service: booked, then the member's
    open case is settled at once if nothing is left unpaid."""
    if kind not in (LedgerKind.CHEQUE, LedgerKind.TRANSFER):
        raise DunningError("Seuls un chèque ou un virement s'enregistrent ici.")
    if paid_on > timezone.localdate():
        raise DunningError("La date du paiement ne peut pas être dans le futur.")
    label = "Chèque reçu" if kind == LedgerKind.CHEQUE else "Virement reçu"
    with transaction.atomic():
        entry, _created = ledger.book(
            member=member,
            kind=kind,
            amount=amount,
            booked_on=paid_on,
            label=label,
            reference=reference,
            actor=actor,
        )
        for case in DunningCase.objects.filter(contract__member=member, stage__in=OPEN):
            if unpaid(member, on=max(paid_on, timezone.localdate())) is None:
                settle(case, paid_on=paid_on, actor=actor)
    return entry


def grant_plan(
    *,
    case: DunningCase,
    instalment_count: int,
    first_date: datetime.date,
    actor,
) -> PaymentPlan:
    """Settle the unpaid amount in ``instalment_count`` parts; the steps wait meanwhile."""
    if not 2 <= instalment_count <= 12:
        raise DunningError("Un échéancier compte de 2 à 12 échéances.")
    if first_date < timezone.localdate():
        raise DunningError("La première échéance ne peut pas être passée.")
    with transaction.atomic():
        case = _locked(case)
        if case.stage not in OPEN:
            raise DunningError("Ce dossier est clos.")
        if active_plan(case) is not None:
            raise DunningError("Un échéancier est déjà en cours pour ce dossier.")
        part = ledger.cents(case.amount / instalment_count)
        plan = PaymentPlan.objects.create(
            case=case,
            instalment_count=instalment_count,
            instalment_amount=part,
            first_date=first_date,
            granted_by=ledger.actor_label(actor),
        )
        _audit(
            BillingTag.PLAN_GRANT,
            case,
            actor,
            {"instalments": instalment_count, "first_date": first_date.isoformat()},
        )
    return plan


def end_plan(plan: PaymentPlan, *, actor) -> PaymentPlan:
    """End a plan that is not kept: the L221-7 steps resume."""
    with transaction.atomic():
        updated = PaymentPlan.objects.filter(pk=plan.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if not updated:
            raise DunningError("Cet échéancier est déjà terminé.")
        _audit(BillingTag.PLAN_END, plan.case, actor, {"plan": str(plan.pk)})
    plan.refresh_from_db()
    return plan


def _audit(tag: str, case: DunningCase, actor, details: dict) -> None:
    audit.record(
        tag,
        actor=actor,
        subject=case.contract.member.person_id,
        target=case,
        details={"stage": case.stage, **details},
    )
