"""Whether a contract covers its people at a given moment: the one place cover status is read.

Every face that shows or answers a cover status (member space, back office, the health
professionals' rights check, the mandatory-scheme exchange) asks :func:`cover_status`, so a
suspension for unpaid premiums (C. mutualité L221-7) reaches all of them the moment it applies.

The contract's own dates say whether it has started or ended. Suspensions are known to the app
that collects premiums: it registers its rule here when Django starts
(:func:`register_suspension`), so this module needs no import of it (billing imports contracts,
never the reverse).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from mutualis.contracts.models import Contract


class CoverStatus(models.TextChoices):
    COVERED = "covered", "couvert"
    NOT_COVERED = "not_covered", "non couvert"
    SUSPENDED = "suspended", "garanties suspendues"
    TERMINATED = "terminated", "contrat résilié"


SuspensionRule = Callable[["Contract", datetime.datetime], bool]
_suspensions: list[SuspensionRule] = []


def register_suspension(rule: SuspensionRule) -> None:
    """Add a rule telling whether a contract's cover is suspended at a moment."""
    if rule not in _suspensions:
        _suspensions.append(rule)


def moment_of(day: datetime.date) -> datetime.datetime:
    """The moment a day's cover is judged at: now for today, the end of any other day (a cover
    restored at noon covers care given that day)."""
    if day == timezone.localdate():
        return timezone.now()
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return timezone.make_aware(end)


def cover_status(
    contract: Contract, *, on: datetime.date | None = None, at: datetime.datetime | None = None
) -> CoverStatus:
    """The contract's cover on the day ``on`` (see :func:`moment_of`) or at the moment ``at``:
    not yet started, ended, suspended, or in force."""
    if at is None:
        if on is None:
            raise TypeError("cover_status needs on= or at=")
        at = moment_of(on)
    day = timezone.localdate(at)
    if contract.start_date > day:
        return CoverStatus.NOT_COVERED
    if contract.end_date is not None and contract.end_date < day:
        return CoverStatus.TERMINATED
    if any(rule(contract, at) for rule in _suspensions):
        return CoverStatus.SUSPENDED
    return CoverStatus.COVERED
