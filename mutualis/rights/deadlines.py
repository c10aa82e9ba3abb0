"""The deadline of a data-subject request (GDPR art. 12(3)), computed in one place.

- One month from receipt, counted as Regulation 1182/71 counts months (the same day of the next
  month, or its last day when that month is shorter): :func:`mutualis.lib.dates.add_months`.
- Extendable by two further months at most, when the request is complex or the requests
  numerous, with reasons given to the person within the first month (art. 12(3)).
- While staff wait for an identity document asked on reasonable doubt (art. 12(6)), the clock
  waits: the days spent waiting are added at the end (GDPR art. 12(6)).
"""

from __future__ import annotations

import datetime

from mutualis.lib.dates import add_months

BASE_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


def due_date(
    received: datetime.date, *, extended_by: int = 0, waited_days: int = 0
) -> datetime.date:
    """The day a request received on ``received`` must be answered by (included).

    ``extended_by`` is the extension in months (0 to 2), ``waited_days`` the days the clock
    waited for an identity document.
    """
    if not 0 <= extended_by <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is of 0 to {MAX_EXTENSION_MONTHS} months")
    if waited_days < 0:
        raise ValueError("waited days cannot be negative")
    return add_months(received, BASE_MONTHS + extended_by) + datetime.timedelta(days=waited_days)
