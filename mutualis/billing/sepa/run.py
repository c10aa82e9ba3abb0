"""One batch from start to end: build, write and validate, release (``manage.py sepa_batch``).

Killed at any point and run again, it reaches the same end state: debits already built are kept
(and no new one is added to a released batch), the file is written again to the same bytes, the
release goes on from the first debit not yet booked.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from mutualis.billing import calendar
from mutualis.billing.models import BatchStatus, DebitBatch
from mutualis.billing.sepa import build, release
from mutualis.billing.sepa.build import BatchError

Progress = Callable[[str, int | None], Callable[[int], None]]


@dataclass
class Outcome:
    batch: DebitBatch
    built: build.Built
    path: Path | None
    sha256: str
    already_released: bool


def check_date(collection_date: datetime.date, *, today: datetime.date) -> None:
    """Refuse a date that is not a collection date, or one already past for a new batch."""
    if not calendar.is_collection_date(collection_date):
        expected = calendar.collection_date(collection_date.replace(day=1))
        raise BatchError(
            f"Le {collection_date:%d/%m/%Y} n'est pas une date de prélèvement : les cotisations "
            f"de ce mois-là sont prélevées le {expected:%d/%m/%Y}."
        )
    exists = DebitBatch.objects.filter(collection_date=collection_date).exists()
    if not exists and collection_date <= today:
        raise BatchError(
            f"Le {collection_date:%d/%m/%Y} est passé : une nouvelle remise ne peut viser qu'une "
            "date à venir."
        )


def next_date(today: datetime.date, within_days: int) -> datetime.date | None:
    """The next collection date at most ``within_days`` days ahead, if any."""
    day = calendar.next_collection_date(today)
    return day if (day - today).days <= within_days else None


def run(
    *,
    collection_date: datetime.date,
    schema: str,
    directory: Path,
    actor=None,
    today: datetime.date | None = None,
    progress: Progress | None = None,
) -> Outcome:
    today = today or timezone.localdate()
    check_date(collection_date, today=today)
    batch, _created = build.open_batch(collection_date, schema)
    already = batch.status == BatchStatus.RELEASED

    def step(label: str, total: int | None) -> Callable[[int], None]:
        return progress(label, total) if progress else (lambda n: None)

    built = build.Built()
    if not already:
        built = build.build(batch, actor=actor, progress=step("Prélèvements préparés", None))
    count = batch.debits.count()
    if count == 0:
        return Outcome(batch, built, None, "", already)
    path, sha256 = release.write_file(batch, directory, progress=step("Fichier écrit", count))
    release.release(
        batch,
        sha256=sha256,
        path=path,
        actor=actor,
        progress=step("Prélèvements comptabilisés", count),
    )
    batch.refresh_from_db()
    return Outcome(batch, built, path, sha256, already)
