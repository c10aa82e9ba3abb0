"""Demo data: the year of premiums of the demo members, month by month, as the collection cycle
would have made it — schedules announced 20 days ahead, a debit file each month, Dave's debit of
one month rejected then paid by transfer, Marc's last debit rejected and his unpaid premium at
the formal-notice stage (C. mutualité L221-7). Idempotent: nothing is replayed once a batch
exists.

Everything goes through the billing services, with the dates of the year replayed; the audit
events carry today's time, as the demo is loaded today.
"""

from __future__ import annotations

import datetime
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mutualis.billing import calendar, dunning, prenotify, schedule
from mutualis.billing.models import DebitBatch, LedgerKind
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.sepa import build, release
from mutualis.billing.testing import pain002
from mutualis.contracts.models import Contract
from mutualis.lib.demo import DemoLogin

# Dave's debit of this many months ago is rejected (then paid by transfer); Marc's last one too.
DAVE_REJECTED_MONTHS_AGO = 5


def _moment(day: datetime.date, hour: int = 6) -> datetime.datetime:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def load() -> list[DemoLogin]:
    if DebitBatch.objects.exists():
        return []
    contracts = list(
        Contract.objects.filter(member__person__email__endswith="@example.org").select_related(
            "member__person"
        )
    )
    if not contracts:
        return []
    today = timezone.localdate()
    start = min(c.start_date for c in contracts)
    horizon = calendar.schedule_horizon(today)
    for contract in contracts:
        schedule.build_schedule(contract, until=horizon)
    by_email = {c.member.person.email: c.member for c in contracts}
    dave, marc = by_email.get("dave@example.org"), by_email.get("marc@example.org")
    past = [d for d in calendar.collection_dates(start, today) if d < today]
    for index, day in enumerate(past):
        announce_on = day - datetime.timedelta(days=20)
        prenotify.notify(today=announce_on, now=_moment(announce_on))
        schedule.post_due_premiums(on=day)
        batch = _batch(day)
        months_ago = len(past) - 1 - index
        rejected = []
        if dave is not None and months_ago == DAVE_REJECTED_MONTHS_AGO:
            rejected.append(dave)
        if marc is not None and months_ago == 0:
            rejected.append(marc)
        debits = [batch.debits.get(member=m) for m in rejected if batch.debits.filter(member=m)]
        if debits:
            reported = day + datetime.timedelta(days=2)
            import_bytes(
                pain002(batch, [(d, "AM04") for d in debits], day=reported),
                file_name=f"retours-{day:%Y-%m}.xml",
            )
        if dave is not None and months_ago == DAVE_REJECTED_MONTHS_AGO and debits:
            dunning.record_payment(
                member=dave,
                kind=LedgerKind.TRANSFER,
                amount=debits[0].amount,
                paid_on=day + datetime.timedelta(days=9),
                reference="VIREMENT ADHERENT",
                actor=None,
            )
    schedule.post_due_premiums(on=today)
    prenotify.notify(today=today)
    dunning.advance(today=today)
    return []


def _batch(day: datetime.date) -> DebitBatch:
    batch, _created = build.open_batch(day, "pain.008.001.08")
    build.build(batch)
    if batch.debits.exists():
        path, sha = release.write_file(batch, Path(settings.MUTUALIS_SEPA_OUT_DIR))
        release.release(batch, sha256=sha, path=path)
    batch.refresh_from_db()
    return batch
