"""The premium schedule: one instalment per covered month of a contract (docs/billing.md).

A month's amount is the sum, over the people the contract covers, of the offer's rate for their
age on the month's first day, in the rate table in force on that day (the latest table effective
on or before it). A contract starting or ending inside a month pays the covered days only
(amount × covered days / days in the month, half up to the cent). The instalment falls due on
``MUTUALIS_PREMIUM_DUE_DAY`` of its month (the 5th by default), or on the contract's start when
it starts later in the month.

``build_schedule`` is idempotent: it adds the months that are missing and leaves the others.
``recompute`` changes the amount of the months not yet posted to the ledger (a beneficiary added
or removed); a posted month stays as it was booked. ``post_due_premiums`` books each instalment
due on a day as a PREMIUM ledger entry, once (key ``premium:<instalment>``).
"""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.billing import ledger
from mutualis.billing.calendar import due_day
from mutualis.billing.models import Instalment, LedgerEntry, LedgerKind
from mutualis.billing.tags import BillingTag
from mutualis.contracts.models import Contract, PremiumRate, rates_in_force

CENT = Decimal("0.01")


def first_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def last_of(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def due_date(contract: Contract, month: datetime.date) -> datetime.date:
    return max(month.replace(day=due_day()), contract.start_date)


def _rate(table: list[PremiumRate], age: int, offer_code: str) -> Decimal:
    for rate in table:
        if rate.min_age <= age <= rate.max_age:
            return rate.monthly_amount
    raise ValueError(f"no premium rate for age {age} in offer {offer_code}")


def full_month_amount(
    contract: Contract, month: datetime.date, table: list[PremiumRate] | None = None
) -> Decimal:
    """The premium of a whole covered month: each covered person's rate for their age then."""
    table = rates_in_force(contract.offer_id, month) if table is None else table
    total = Decimal("0")
    for person in contract.covered_people():
        age = person.age_on(month)
        # A child born during the month is covered from birth, free until the next month.
        if age is not None and age >= 0:
            total += _rate(table, age, contract.offer.code)
    return total


def month_amount(contract: Contract, month: datetime.date) -> Decimal:
    """The premium of ``month``, prorated by day for a start or an end inside it."""
    full = full_month_amount(contract, month)
    last = last_of(month)
    start = max(month, contract.start_date)
    end = min(last, contract.end_date) if contract.end_date else last
    if end < start:
        return Decimal("0.00")
    covered, days = (end - start).days + 1, last.day
    if covered == days:
        return full.quantize(CENT, rounding=ROUND_HALF_UP)
    return (full * covered / days).quantize(CENT, rounding=ROUND_HALF_UP)


def covered_months(contract: Contract, until: datetime.date):
    month = first_of(contract.start_date)
    end = contract.end_date if contract.end_date and contract.end_date < until else until
    while month <= end:
        yield month
        month = next_month(month)


def build_schedule(contract: Contract, *, until: datetime.date, actor=None) -> list[Instalment]:
    """Create the missing instalments of ``contract`` up to the month of ``until``; idempotent.
    Returns the instalments created."""
    with transaction.atomic():
        have = set(Instalment.objects.filter(contract=contract).values_list("month", flat=True))
        created = []
        for month in covered_months(contract, until):
            if month in have:
                continue
            created.append(
                Instalment(
                    contract=contract,
                    member_id=contract.member_id,
                    month=month,
                    due_date=due_date(contract, month),
                    amount=month_amount(contract, month),
                )
            )
        for instalment in created:
            instalment.save()
        if created:
            audit.record(
                BillingTag.SCHEDULE_BUILD,
                actor=actor,
                subject=contract.member.person_id,
                target=contract,
                details={
                    "months": len(created),
                    "from": created[0].month.isoformat(),
                    "to": created[-1].month.isoformat(),
                },
            )
    return created


def unposted(contract: Contract, *, from_month: datetime.date):
    """The instalments from ``from_month`` on that no ledger entry has booked yet and no debit
    has collected."""
    posted = LedgerEntry.objects.filter(
        instalment__contract=contract, kind=LedgerKind.PREMIUM
    ).values("instalment_id")
    pending = Instalment.objects.filter(
        contract=contract, month__gte=from_month, debit__isnull=True
    )
    return pending.exclude(pk__in=posted)


def recompute(
    contract: Contract, *, from_month: datetime.date | None = None, reason: str, actor=None
) -> int:
    """Recompute the months not yet posted, from ``from_month`` (this month by default);
    returns how many amounts changed. Audited."""
    start = first_of(from_month or timezone.localdate())
    with transaction.atomic():
        changed = 0
        for instalment in unposted(contract, from_month=start).select_for_update():
            amount = month_amount(contract, instalment.month)
            if amount != instalment.amount:
                instalment.amount = amount
                instalment.computed_at = timezone.now()
                instalment.save(update_fields=["amount", "computed_at"])
                changed += 1
        audit.record(
            BillingTag.SCHEDULE_RECOMPUTE,
            actor=actor,
            subject=contract.member.person_id,
            target=contract,
            details={"from": start.isoformat(), "changed": changed, "reason": reason},
        )
    return changed


def add_beneficiary_to_contract(*, contract: Contract, beneficiary, actor=None) -> int:
    """Cover one more of the member's beneficiaries; the future months are recomputed."""
    if beneficiary.member_id != contract.member_id:
        raise ValueError("Ce bénéficiaire n'est pas rattaché à l'adhérent du contrat.")
    with transaction.atomic():
        contract.beneficiaries.add(beneficiary)
        audit.record(
            BillingTag.CONTRACT_BENEFICIARY_ADD,
            actor=actor,
            subject=beneficiary.person_id,
            target=contract,
            details={"beneficiary": str(beneficiary.pk)},
        )
        return recompute(contract, reason="ajout d'un bénéficiaire", actor=actor)


def remove_beneficiary_from_contract(*, contract: Contract, beneficiary, actor=None) -> int:
    """Stop covering a beneficiary; the future months are recomputed."""
    with transaction.atomic():
        contract.beneficiaries.remove(beneficiary)
        audit.record(
            BillingTag.CONTRACT_BENEFICIARY_REMOVE,
            actor=actor,
            subject=beneficiary.person_id,
            target=contract,
            details={"beneficiary": str(beneficiary.pk)},
        )
        return recompute(contract, reason="retrait d'un bénéficiaire", actor=actor)


def post_due_premiums(*, on: datetime.date, actor=None) -> int:
    """Book every instalment due on or before ``on`` not booked yet; returns how many."""
    booked = 0
    pending = (
        Instalment.objects.filter(due_date__lte=on, amount__gt=0)
        .exclude(entries__kind=LedgerKind.PREMIUM)
        .select_related("contract__member")
        .order_by("due_date", "pk")
    )
    for instalment in pending.iterator(chunk_size=2000):
        _entry, created = ledger.book(
            member=instalment.contract.member,
            kind=LedgerKind.PREMIUM,
            amount=instalment.amount,
            booked_on=instalment.due_date,
            label=f"Cotisation {instalment.month:%m/%Y}",
            contract=instalment.contract,
            instalment=instalment,
            key=f"premium:{instalment.pk}",
            actor=actor,
        )
        booked += created
    return booked
