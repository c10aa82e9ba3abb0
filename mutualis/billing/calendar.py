"""When premiums are collected: one collection date a month, and the notice it needs.

A month's premium falls due on ``MUTUALIS_PREMIUM_DUE_DAY``; the debits of that month are
requested for the same day, moved to the next TARGET2 settlement day when the euro system is
closed then (SEPA SDD Core rulebook). A debit may only be presented once the debtor has been told
of its amount and date at least ``MUTUALIS_SEPA_PRENOTIFICATION_DAYS`` (14) days before.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings

from mutualis.lib.dates import add_months, next_target_day


def due_day() -> int:
    day = int(getattr(settings, "MUTUALIS_PREMIUM_DUE_DAY", 5))
    if not 1 <= day <= 28:
        raise ValueError("MUTUALIS_PREMIUM_DUE_DAY must be between 1 and 28")
    return day


def notice_days() -> int:
    days = int(settings.MUTUALIS_SEPA_PRENOTIFICATION_DAYS)
    if days < 1:
        raise ValueError("MUTUALIS_SEPA_PRENOTIFICATION_DAYS must be at least 1")
    return days


def collection_date(month: datetime.date) -> datetime.date:
    """The collection date of ``month``'s debits."""
    return next_target_day(month.replace(day=due_day()))


def collection_dates(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    """Every collection date from ``start`` to ``end`` (both included), in order."""
    month = add_months(start.replace(day=1), -1)
    while month <= end:
        day = collection_date(month)
        if start <= day <= end:
            yield day
        month = add_months(month, 1)


def is_collection_date(day: datetime.date) -> bool:
    return collection_date(day.replace(day=1)) == day


def next_collection_date(after: datetime.date) -> datetime.date:
    """The first collection date strictly after ``after``."""
    return next(collection_dates(after + datetime.timedelta(days=1), add_months(after, 2)))


def latest_notice_day(collection: datetime.date) -> datetime.date:
    """The last day a notice of a debit on ``collection`` may be made."""
    return collection - datetime.timedelta(days=notice_days())


def schedule_horizon(today: datetime.date) -> datetime.date:
    """The last day the schedule is built and announced to: the end of this year, or of next
    year once ``MUTUALIS_SCHEDULE_NEXT_YEAR_FROM`` (1 November) is reached, so members learn a
    new year's amounts before they apply."""
    month, day = (int(part) for part in settings.MUTUALIS_SCHEDULE_NEXT_YEAR_FROM.split("-"))
    if (today.month, today.day) >= (month, day):
        return datetime.date(today.year + 1, 12, 31)
    return datetime.date(today.year, 12, 31)
