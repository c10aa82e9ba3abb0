"""Legal deadlines, each computed by one helper and tested at its edges.

- :func:`add_months`: a period expressed in months ends on the same day of the later month, or
  on its last day when that month is shorter (Regulation (EEC, Euratom) No 1182/71, art. 3(2)(c),
  which the EDPB applies to GDPR art. 12(3)).
- :func:`add_working_days`: working days are Monday to Friday except French public holidays
  (Code du travail L3133-1), as ACPR recommendation 2022-R-01 counts its 10 days.
"""

from __future__ import annotations

import calendar
import datetime
from functools import lru_cache

import holidays


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, clamped to the end of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> frozenset[datetime.date]:
    """The eleven public holidays of metropolitan France (C. travail L3133-1), from the
    ``holidays`` library (Easter-based days included)."""
    return frozenset(holidays.France(years=year))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
    if count < 0:
        raise ValueError("count must be positive")
    current = day
    remaining = count
    while remaining:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


@lru_cache(maxsize=64)
def target_closing_days(year: int) -> frozenset[datetime.date]:
    """The days TARGET2 (the euro area's settlement system, which SEPA direct debits settle
    through) is closed besides weekends, from the ``holidays`` library's ECB calendar."""
    return frozenset(holidays.financial_holidays("XECB", years=year))


def is_target_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in target_closing_days(day.year)


def next_target_day(day: datetime.date) -> datetime.date:
    """``day`` itself when TARGET2 settles that day, otherwise the next day it does: a debit's
    requested collection date must be a settlement day (SEPA SDD Core rulebook)."""
    while not is_target_day(day):
        day += datetime.timedelta(days=1)
    return day
