"""Test helpers of billing: a member subscribed on a given day, through the services."""

from __future__ import annotations

import datetime
import random

import time_machine

from mutualis.contracts import services
from mutualis.contracts.testing import child_of, ensure_offers, make_application, make_person_data


def subscribed_on(
    day: datetime.date,
    *,
    first_names: str = "Alice",
    email: str = "alice@example.org",
    seed: int = 1,
    children: int = 1,
):
    """The contract of a member who subscribed on ``day`` (effective that day)."""
    ensure_offers()
    with time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10), tick=False):
        rng = random.Random(seed)
        person = make_person_data(first_names=first_names, email=email, rng=rng)
        kids = [child_of(person, rng=rng) for _ in range(children)]
        application = make_application(member=person, beneficiaries=kids, rng=rng)
        return services.subscribe(application=application)
