"""Demo data: three months of audience events, aggregated, so the dashboard has figures.

Made up and reproducible (a fixed seed); idempotent: nothing is added once events exist.
"""

from __future__ import annotations

import datetime
import random
import secrets

from django.utils import timezone

from mutualis.audience.aggregation import aggregate_pending
from mutualis.audience.models import AggregatedDay, AudienceEvent
from mutualis.lib.demo import DemoLogin

DAYS = 90
PAGES = [
    ("web:home", 40),
    ("web:policy", 8),
    ("web:cookies", 4),
    ("web:contact", 10),
    ("web:subscription:start", 9),
    ("portal:login", 15),
    ("portal:dashboard", 12),
    ("portal:preferences", 4),
    ("portal:my_data", 3),
]
BROWSERS = [("Chrome", 50), ("Safari", 25), ("Firefox", 12), ("Edge", 9), ("Autre", 4)]


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def load() -> list[DemoLogin]:
    if AudienceEvent.objects.exists() or AggregatedDay.objects.exists():
        return []
    rng = random.Random(20260401)
    today = timezone.localdate()
    visitors = [
        (secrets.token_hex(16), today - datetime.timedelta(days=rng.randint(0, DAYS)))
        for _ in range(150)
    ]
    rows = []
    for offset in range(DAYS, 0, -1):
        day = today - datetime.timedelta(days=offset)
        for visitor, since in rng.sample(visitors, rng.randint(8, 25)):
            since = min(since, day)
            browser = _pick(rng, BROWSERS)
            moment = timezone.make_aware(
                datetime.datetime.combine(day, datetime.time(rng.randint(7, 22)))
            ) + datetime.timedelta(minutes=rng.randint(0, 59))
            for _ in range(rng.randint(1, 5)):
                page = _pick(rng, PAGES)
                visible = rng.randint(3_000, 240_000)
                common = {"visitor": visitor, "visitor_since": since, "browser": browser}
                rows.append(AudienceEvent(at=moment, kind="view", page=page, **common))
                moment += datetime.timedelta(milliseconds=visible)
                rows.append(
                    AudienceEvent(at=moment, kind="leave", page=page, duration_ms=visible, **common)
                )
                moment += datetime.timedelta(seconds=rng.randint(1, 20))
    AudienceEvent.objects.bulk_create(rows, batch_size=2000)
    aggregate_pending()
    return []
