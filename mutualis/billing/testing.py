"""Test helpers of billing: members subscribed on a given day, and days of the cycle run on
frozen time, always through the services."""

from __future__ import annotations

import contextlib
import datetime
import random
from collections.abc import Iterator
from pathlib import Path

import time_machine

from mutualis.contracts import services
from mutualis.contracts.testing import child_of, ensure_offers, make_application, make_person_data


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour)


@contextlib.contextmanager
def on(day: datetime.date, hour: int = 10) -> Iterator[None]:
    """Frozen time at ``hour`` o'clock (Paris) on ``day``."""
    import zoneinfo

    moment = datetime.datetime(
        day.year, day.month, day.day, hour, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")
    )
    with time_machine.travel(moment, tick=False):
        yield


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
    with on(day):
        rng = random.Random(seed)
        person = make_person_data(first_names=first_names, email=email, rng=rng)
        kids = [child_of(person, rng=rng) for _ in range(children)]
        application = make_application(member=person, beneficiaries=kids, rng=rng)
        return services.subscribe(application=application)


def cycle_on(day: datetime.date):
    """The daily billing run of ``day``, on frozen time."""
    from mutualis.billing import cycle

    with on(day, hour=2):
        return cycle.run(today=day)


def batch_on(collection_date: datetime.date, directory: Path, *, today=None, schema=None):
    """The batch of ``collection_date`` built on ``today`` (two days before by default)."""
    from mutualis.billing.models import BatchFormat
    from mutualis.billing.sepa import run

    today = today or collection_date - datetime.timedelta(days=2)
    with on(today, hour=6):
        return run.run(
            collection_date=collection_date,
            schema=schema or BatchFormat.V08,
            directory=directory,
            today=today,
        )
