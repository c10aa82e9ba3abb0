"""Whether a contract covers its people on a given day: the one place cover status is read.

Every face that shows or answers a cover status (member space, back office, the health
professionals' rights check, the mandatory-scheme exchange) asks :func:`cover_status`, so a
suspension for unpaid premiums (C. mutualité L221-7) reaches all of them the day it applies.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from mutualis.contracts.models import Contract


class CoverStatus(models.TextChoices):
    COVERED = "covered", "couvert"
    NOT_COVERED = "not_covered", "non couvert"
    SUSPENDED = "suspended", "garanties suspendues"
    TERMINATED = "terminated", "contrat résilié"


def cover_status(contract: Contract, *, on: datetime.date) -> CoverStatus:
    """The contract's cover on ``on``: not yet started, ended, or in force."""
    if contract.start_date > on:
        return CoverStatus.NOT_COVERED
    if contract.end_date is not None and contract.end_date < on:
        return CoverStatus.TERMINATED
    return CoverStatus.COVERED
