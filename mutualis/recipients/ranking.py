"""Which of a person's contracts answers for them on a day: one ranking for every recipient.

A person may hold several contracts (as member and as beneficiary, an ended one and a new one).
The rights check (a health professional's API) and the affiliation exchange (the mandatory
schemes) each tell one status and, for the exchange, one contract; both choose it here, so a
pharmacy and a *caisse* are never told two different things about the same day:

1. covered, then suspended (a contract in force, its guarantees suspended), then not covered
   (no contract in force that day: the next one has not started yet), then terminated;
2. among contracts of one status, the one that tells most about the day: the latest ended for
   terminated ones, the soonest to start for those not yet in force, the latest started
   otherwise; then the contract's id, so the choice never depends on the order of a query.

The status of each contract is :func:`mutualis.contracts.cover.cover_status`'s, the one place
cover is read.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from mutualis.contracts.cover import CoverStatus, cover_status

if TYPE_CHECKING:
    from mutualis.contracts.models import Contract

T = TypeVar("T")

RANK = {
    CoverStatus.COVERED: 0,
    CoverStatus.SUSPENDED: 1,
    CoverStatus.NOT_COVERED: 2,
    CoverStatus.TERMINATED: 3,
}


def _order(status: CoverStatus, contract: Contract) -> tuple:
    if status == CoverStatus.TERMINATED and contract.end_date is not None:
        day = -contract.end_date.toordinal()
    elif status == CoverStatus.NOT_COVERED:
        day = contract.start_date.toordinal()
    else:
        day = -contract.start_date.toordinal()
    return (RANK[status], day, str(contract.pk))


def best_cover(
    contracts: Iterable[tuple[Contract, T]], *, on: datetime.date
) -> tuple[CoverStatus, Contract | None, T | None]:
    """``(status, contract, extra)`` of the contract that answers for the person on ``on``;
    ``contracts`` pairs each contract with what the caller keeps beside it (the person's role
    in it). Without any contract: not covered."""
    best = None
    for contract, extra in contracts:
        status = cover_status(contract, on=on)
        key = _order(status, contract)
        if best is None or key < best[0]:
            best = (key, status, contract, extra)
    if best is None:
        return CoverStatus.NOT_COVERED, None, None
    return best[1], best[2], best[3]
