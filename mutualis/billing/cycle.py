"""The daily run of the collection cycle (``manage.py billing_cycle``, a periodic job).

In order, each step idempotent, so a run killed at any point is finished by the next one:

1. the premium schedule of every contract in force is built up to the horizon (the end of the
   year; from 1 November, the end of next year, with next year's rates);
2. members without a mandate whose schedule for a new year was just built are told its amounts
   (a member paying by direct debit learns them from the pre-notification, step 5);
3. premiums due today or before are booked in the members' ledgers;
4. mandates unused for 36 months lapse;
5. debits whose amount or date changed are pre-notified (at least 14 days ahead);
6. unpaid premiums go one step further in the L221-7 sequence.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string

from mutualis import audit
from mutualis.billing import calendar, dunning, prenotify, schedule, services
from mutualis.billing.models import Instalment, Mandate
from mutualis.billing.tags import BillingTag
from mutualis.contracts.models import Contract

Step = Callable[[str, int | None], Callable[[int], None]]


@dataclass
class Report:
    schedules: int = 0
    instalments: int = 0
    tariff_notices: int = 0
    premiums_posted: int = 0
    lapsed: int = 0
    prenotified: int = 0
    unsent: int = 0  # pre-notification e-mails not sent for now: sent again next run
    to_post: int = 0  # pre-notification e-mails the mail server refused: their notices go by post
    dunning: dunning.Outcome = field(default_factory=dunning.Outcome)


def contracts_to_schedule(today: datetime.date, horizon: datetime.date):
    """Contracts in force (or ended lately) whose schedule misses its last month."""
    last_month = horizon.replace(day=1)
    has_last = Instalment.objects.filter(contract=OuterRef("pk"), month=last_month)
    open_ended = Contract.objects.filter(start_date__lte=horizon).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=last_month)
    )
    recently_ended = Contract.objects.filter(
        end_date__lt=last_month, end_date__gte=today - datetime.timedelta(days=400)
    )
    return (open_ended.exclude(Exists(has_last)) | recently_ended).select_related(
        "member__person", "offer"
    )


def build_schedules(
    *, today: datetime.date, actor=None, progress: Callable[[int], None] | None = None
) -> tuple[int, int, list]:
    """Build the missing months of every contract; returns (contracts, instalments, the
    contracts that received months of a year they had none of)."""
    horizon = calendar.schedule_horizon(today)
    contracts = touched = 0
    new_year: list[Contract] = []
    for contract in contracts_to_schedule(today, horizon).iterator(chunk_size=500):
        had_year = Instalment.objects.filter(contract=contract, month__year=horizon.year).exists()
        created = schedule.build_schedule(contract, until=horizon, actor=actor)
        if created:
            contracts += 1
            touched += len(created)
            if not had_year and horizon.year > today.year:
                new_year.append(contract)
        if progress:
            progress(1)
    return contracts, touched, new_year


def tariff_notices(contracts: list[Contract], *, year: int, actor=None) -> int:
    """Tell members paying otherwise than by direct debit their premiums of the coming year."""
    with_mandate = set(
        Mandate.objects.current()
        .filter(member__in=[c.member_id for c in contracts])
        .values_list("member_id", flat=True)
    )
    messages = []
    for contract in contracts:
        person = contract.member.person
        if contract.member_id in with_mandate or not person.email:
            continue
        months = list(Instalment.objects.filter(contract=contract, month__year=year))
        with transaction.atomic():
            audit.record(
                BillingTag.TARIFF_NOTICE,
                actor=actor,
                subject=person.pk,
                target=contract,
                details={"year": year, "months": len(months)},
            )
        body = render_to_string(
            "billing/email/tariff_notice.txt",
            {
                "person": person,
                "contract": contract,
                "year": year,
                "months": months,
                "organisation": settings.MUTUALIS_ORGANISATION,
                "site_url": settings.MUTUALIS_SITE_URL.rstrip("/"),
            },
        )
        messages.append(
            EmailMessage(
                subject=f"Vos cotisations en {year} — "
                f"{settings.MUTUALIS_ORGANISATION['short_name']}",
                body=body.strip() + "\n",
                to=[person.email],
            )
        )
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def run(*, today: datetime.date, actor=None, step: Step | None = None) -> Report:
    report = Report()

    def progress(label: str) -> Callable[[int], None] | None:
        return step(label, None) if step else None

    report.schedules, report.instalments, new_year = build_schedules(
        today=today, actor=actor, progress=progress("Échéanciers")
    )
    if new_year:
        report.tariff_notices = tariff_notices(
            new_year, year=calendar.schedule_horizon(today).year, actor=actor
        )
    report.premiums_posted = schedule.post_due_premiums(on=today, actor=actor)
    report.lapsed = services.lapse_mandates(today=today, actor=actor)
    notified = prenotify.notify(today=today, actor=actor, progress=progress("Pré-notifications"))
    report.prenotified = notified.notices
    report.unsent, report.to_post = notified.unsent, notified.to_post
    report.dunning = dunning.advance(today=today, actor=actor)
    return report
