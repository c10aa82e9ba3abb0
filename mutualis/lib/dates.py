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


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, clamped to the end of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def easter_sunday(year: int) -> datetime.date:
    """Gregorian Easter (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> frozenset[datetime.date]:
    """The eleven public holidays of metropolitan France (C. travail L3133-1)."""
    easter = easter_sunday(year)
    one_day = datetime.timedelta(days=1)
    return frozenset(
        {
            datetime.date(year, 1, 1),  # Jour de l'an
            easter + one_day,  # Lundi de Pâques
            datetime.date(year, 5, 1),  # Fête du travail
            datetime.date(year, 5, 8),  # Victoire 1945
            easter + 39 * one_day,  # Ascension
            easter + 50 * one_day,  # Lundi de Pentecôte
            datetime.date(year, 7, 14),  # Fête nationale
            datetime.date(year, 8, 15),  # Assomption
            datetime.date(year, 11, 1),  # Toussaint
            datetime.date(year, 11, 11),  # Armistice
            datetime.date(year, 12, 25),  # Noël
        }
    )


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
