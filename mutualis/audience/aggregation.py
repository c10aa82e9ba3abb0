"""From raw audience events to the anonymous figures of each day, then the raw events go.

A *visit* is a run of one browser's events with no gap of more than 30 minutes (the usual
definition of a session in audience measurement); a visit is counted on the day it starts and
cut at midnight. For each finished day: visits, distinct visitors, new visitors, pages viewed,
visits with a single page, total visit time; pages viewed per page; visits per browser family;
visits per length; visits by time since the same browser's previous visit (return frequency).
A visit's length is the time its pages stayed visible (what the script reports when a page is
left), or, when none was reported, the time from its first to its last event.

:func:`aggregate_pending` aggregates every finished day not aggregated yet (a periodic job,
``manage.py aggregate_statistics``, idempotent). :func:`expire_events` is the retention
handler of the raw events: it aggregates what is left to aggregate, then deletes the events past
their 25 months, so no figure is lost with them.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from mutualis import audit
from mutualis.audience.models import (
    AggregatedDay,
    AudienceEvent,
    DailyAggregate,
    Dimension,
    EventKind,
)
from mutualis.audience.tags import AudienceTag

VISIT_GAP = datetime.timedelta(minutes=30)
# (upper bound in seconds, label), the last one open-ended.
DURATION_BUCKETS = (
    (10, "moins de 10 s"),
    (30, "10 à 30 s"),
    (60, "30 s à 1 min"),
    (180, "1 à 3 min"),
    (600, "3 à 10 min"),
    (1800, "10 à 30 min"),
    (None, "plus de 30 min"),
)
NEW = "première visite"
RETURN_BUCKETS = (
    (datetime.timedelta(days=1), "le même jour ou la veille"),
    (datetime.timedelta(days=7), "2 à 7 jours après"),
    (datetime.timedelta(days=30), "8 à 30 jours après"),
    (None, "plus de 30 jours après"),
)
TOTALS = ("visits", "visitors", "new_visitors", "page_views", "single_page_visits", "seconds")
_DELETE_BATCH = 5000


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def duration_bucket(seconds: float) -> str:
    for bound, label in DURATION_BUCKETS:
        if bound is None or seconds < bound:
            return label
    raise AssertionError("unreachable")


def return_bucket(gap: datetime.timedelta | None) -> str:
    if gap is None:
        return NEW
    for bound, label in RETURN_BUCKETS:
        if bound is None or gap <= bound:
            return label
    raise AssertionError("unreachable")


@dataclass
class _Visit:
    start: datetime.datetime
    end: datetime.datetime
    browser: str
    views: int = 0
    visible_ms: int = 0
    gap: datetime.timedelta | None = None

    @property
    def seconds(self) -> float:
        if self.visible_ms:
            return self.visible_ms / 1000
        return (self.end - self.start).total_seconds()


@dataclass
class Figures:
    totals: Counter = field(default_factory=Counter)
    pages: Counter = field(default_factory=Counter)
    browsers: Counter = field(default_factory=Counter)
    durations: Counter = field(default_factory=Counter)
    returns: Counter = field(default_factory=Counter)

    def rows(self, day: datetime.date) -> list[DailyAggregate]:
        rows = [
            DailyAggregate(day=day, dimension=Dimension.TOTAL, key=k, value=self.totals[k])
            for k in TOTALS
        ]
        for dimension, counts in (
            (Dimension.PAGE, self.pages),
            (Dimension.BROWSER, self.browsers),
            (Dimension.DURATION, self.durations),
            (Dimension.RETURN, self.returns),
        ):
            rows += [
                DailyAggregate(day=day, dimension=dimension, key=key[:120], value=value)
                for key, value in counts.items()
            ]
        return rows


def figures_of(day: datetime.date) -> tuple[Figures, int]:
    """The figures of ``day`` from its raw events, and how many events there were."""
    start, end = day_bounds(day)
    events = (
        AudienceEvent.objects.filter(at__gte=start, at__lt=end)
        .order_by("visitor", "at", "id")
        .values_list("visitor", "visitor_since", "at", "kind", "page", "browser", "duration_ms")
    )
    rows = list(events.iterator(chunk_size=5000))
    visitors = {row[0] for row in rows}
    before = _last_before(visitors, start)
    figures = Figures()
    new_visitors = set()
    current: _Visit | None = None
    last_visitor = None
    visits: list[_Visit] = []
    for visitor, since, at, kind, page, browser, duration in rows:
        if visitor != last_visitor:
            previous_end = before.get(visitor)
            if previous_end is None and since >= day:
                new_visitors.add(visitor)
            elif previous_end is None:
                # Seen before, but its earlier events are gone (past their retention): the
                # cookie's first day is the last known visit.
                previous_end = day_bounds(since)[0]
            current = None
            last_visitor = visitor
        if current is None or at - current.end > VISIT_GAP:
            gap = (at - previous_end) if previous_end is not None else None
            current = _Visit(start=at, end=at, browser=browser, gap=gap)
            visits.append(current)
        current.end = at
        previous_end = at
        if kind == EventKind.VIEW:
            current.views += 1
            figures.pages[page] += 1
        elif duration:
            current.visible_ms += duration
    for visit in visits:
        figures.browsers[visit.browser] += 1
        figures.durations[duration_bucket(visit.seconds)] += 1
        figures.returns[return_bucket(visit.gap)] += 1
        figures.totals["seconds"] += round(visit.seconds)
        figures.totals["single_page_visits"] += visit.views <= 1
    figures.totals["visits"] = len(visits)
    figures.totals["visitors"] = len(visitors)
    figures.totals["new_visitors"] = len(new_visitors)
    figures.totals["page_views"] = sum(figures.pages.values())
    return figures, len(rows)


def _last_before(visitors: set, start: datetime.datetime) -> dict:
    """Each visitor's last event before ``start`` (for the time since their previous visit)."""
    found: dict = {}
    ordered = sorted(visitors)
    for i in range(0, len(ordered), 10_000):
        found.update(
            AudienceEvent.objects.filter(visitor__in=ordered[i : i + 10_000], at__lt=start)
            .values("visitor")
            .annotate(last=Max("at"))
            .values_list("visitor", "last")
        )
    return found


def aggregate_day(day: datetime.date) -> int:
    """Compute and store the figures of one finished day (again, if it was already). Returns how
    many raw events it had."""
    if day >= timezone.localdate():
        raise ValueError("only a finished day can be aggregated")
    figures, count = figures_of(day)
    with transaction.atomic():
        DailyAggregate.objects.filter(day=day).delete()
        DailyAggregate.objects.bulk_create(figures.rows(day))
        AggregatedDay.objects.update_or_create(
            day=day, defaults={"aggregated_at": timezone.now(), "events": count}
        )
    return count


def pending_days(until: datetime.date) -> list[datetime.date]:
    """Finished days up to ``until`` (excluded) that have raw events and no figures yet."""
    until = min(until, timezone.localdate())
    last = AggregatedDay.objects.aggregate(m=Max("day"))["m"]
    first_event = AudienceEvent.objects.aggregate(m=Min("at"))["m"]
    if first_event is None:
        return []
    start = timezone.localtime(first_event).date()
    if last is not None:
        start = max(start, last + datetime.timedelta(days=1))
    days = []
    day = start
    while day < until:
        days.append(day)
        day += datetime.timedelta(days=1)
    return days


def aggregate_pending(until: datetime.date | None = None, progress=lambda day: None) -> list:
    """Aggregate every finished day not aggregated yet (idempotent); audited once per run."""
    days = pending_days(until or timezone.localdate())
    events = 0
    for day in days:
        events += aggregate_day(day)
        progress(day)
    if days:
        with transaction.atomic():
            audit.record(
                AudienceTag.DAY_AGGREGATE,
                details={
                    "from": days[0].isoformat(),
                    "to": days[-1].isoformat(),
                    "days": len(days),
                    "events": events,
                },
            )
    return days


def expire_events(*, before: datetime.datetime, batch_size: int = _DELETE_BATCH, dry_run=False):
    """Retention handler of the raw events: aggregate first, then delete those older than
    ``before`` (25 months), in batches. Returns ``(rows, batches)``."""
    old = AudienceEvent.objects.filter(at__lt=before)
    if dry_run:
        return old.count(), 0
    aggregate_pending(until=timezone.localtime(before).date() + datetime.timedelta(days=1))
    rows = batches = 0
    while True:
        keys = list(old.order_by("at").values_list("pk", flat=True)[:batch_size])
        if not keys:
            break
        with transaction.atomic():
            deleted, _ = AudienceEvent.objects.filter(pk__in=keys).delete()
            audit.record(AudienceTag.EVENTS_EXPIRE, details={"rows": deleted, "batch": batches + 1})
        rows += deleted
        batches += 1
    return rows, batches
