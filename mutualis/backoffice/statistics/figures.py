"""The figures of the audience dashboard, read from the daily aggregates, and their charts.

Only aggregates are read (:class:`~mutualis.audience.models.DailyAggregate`): no visitor
identifier reaches the page. The charts are drawn as SVG here, with the shapes of the rights
dashboard (:mod:`mutualis.backoffice.rights.charts`), and every chart is followed by the table
of its numbers.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualis.audience.aggregation import DURATION_BUCKETS, NEW, RETURN_BUCKETS
from mutualis.audience.models import AggregatedDay, AudienceEvent, DailyAggregate, Dimension
from mutualis.backoffice.rights.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Chart,
    LegendItem,
    Rect,
    Tick,
    XLabel,
    month_label,
    month_starts,
    nice_scale,
    short_label,
)

COLOUR = "#0072B2"
TOP_PAGES = 15


def bar_chart(
    *, title: str, description: str, labels: list[str], values: list[int], unit: str, names
) -> Chart:
    """One series of vertical bars, ``labels`` under them, ``names`` in their titles."""
    chart = Chart(title=title, description=description)
    top, step = nice_scale(max(values, default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(values), 1)

    def y_of(value: float) -> float:
        return round(HEIGHT - BOTTOM - value / top * plot_height, 1)

    tick = 0.0
    while tick <= top + 1e-9:
        chart.ticks.append(Tick(y_of(tick), f"{tick:g}"))
        tick += step
    chart.axis_label = unit
    width = round(slot * 0.6, 1)
    for i, (label, name, value) in enumerate(zip(labels, names, values, strict=True)):
        chart.x_labels.append(XLabel(round(LEFT + slot * (i + 0.5), 1), label))
        if value:
            y = y_of(value)
            x = round(LEFT + slot * i + (slot - width) / 2, 1)
            chart.rects.append(
                Rect(x, y, width, round(y_of(0) - y, 1), COLOUR, f"{name} : {value}")
            )
    chart.legend = [LegendItem(COLOUR, unit.capitalize())] if any(values) else []
    return chart


def page_label(route: str) -> str:
    """A route as staff read it: its address when it has no parameter."""
    try:
        return reverse(route)
    except NoReverseMatch:
        return route


@dataclass
class Dashboard:
    since: datetime.date
    months: list[tuple[str, int, int, int]]  # label, visits, page views, seconds
    totals: Counter
    pages: list[tuple[str, str, int]]
    browsers: list[tuple[str, int]]
    durations: list[tuple[str, int]]
    returns: list[tuple[str, int]]
    visits_chart: Chart
    browsers_chart: Chart
    durations_chart: Chart
    returns_chart: Chart
    last_aggregated: datetime.date | None
    raw_events: int
    oldest_event: datetime.datetime | None

    @property
    def average_seconds(self) -> int:
        visits = self.totals["visits"]
        return round(self.totals["seconds"] / visits) if visits else 0

    @property
    def returning_share(self) -> int:
        visits = sum(n for _, n in self.returns)
        returning = sum(n for label, n in self.returns if label != NEW)
        return round(100 * returning / visits) if visits else 0


def _sums(dimension: str, since: datetime.date) -> Counter:
    rows = (
        DailyAggregate.objects.filter(dimension=dimension, day__gte=since)
        .values("key")
        .annotate(n=Sum("value"))
        .values_list("key", "n")
    )
    return Counter(dict(rows))


def dashboard(today: datetime.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    months = month_starts(today)
    since = months[0]
    by_month: dict[datetime.date, Counter] = defaultdict(Counter)
    for day, key, value in DailyAggregate.objects.filter(
        dimension=Dimension.TOTAL, day__gte=since
    ).values_list("day", "key", "value"):
        by_month[day.replace(day=1)][key] += value
    month_rows = [
        (
            month_label(m),
            by_month[m]["visits"],
            by_month[m]["page_views"],
            by_month[m]["seconds"],
        )
        for m in months
    ]
    totals = Counter()
    for counts in by_month.values():
        totals.update(counts)
    pages = _sums(Dimension.PAGE, since).most_common(TOP_PAGES)
    browsers = _sums(Dimension.BROWSER, since).most_common()
    duration_counts = _sums(Dimension.DURATION, since)
    durations = [(label, duration_counts[label]) for _, label in DURATION_BUCKETS]
    return_counts = _sums(Dimension.RETURN, since)
    returns = [(NEW, return_counts[NEW])] + [(lb, return_counts[lb]) for _, lb in RETURN_BUCKETS]
    total = totals["visits"]
    period = f"de {month_label(months[0])} à {month_label(months[-1])}"
    raw = AudienceEvent.objects.aggregate(n=Count("pk"), first=Min("at"))
    return Dashboard(
        since=since,
        months=month_rows,
        totals=totals,
        pages=[(route, page_label(route), n) for route, n in pages],
        browsers=browsers,
        durations=durations,
        returns=returns,
        visits_chart=bar_chart(
            title="Visites par mois, sur douze mois",
            description=f"{total} visite{'s' if total > 1 else ''} {period}. Les nombres exacts "
            "figurent dans le tableau qui suit.",
            labels=[short_label(m) for m in months],
            names=[month_label(m) for m in months],
            values=[row[1] for row in month_rows],
            unit="visites",
        ),
        browsers_chart=bar_chart(
            title="Visites par navigateur, sur douze mois",
            description="Le navigateur de chaque visite ; les nombres exacts figurent dans le "
            "tableau qui suit.",
            labels=[name for name, _ in browsers],
            names=[name for name, _ in browsers],
            values=[n for _, n in browsers],
            unit="visites",
        ),
        durations_chart=bar_chart(
            title="Durée des visites, sur douze mois",
            description="Le nombre de visites par durée ; les nombres exacts figurent dans le "
            "tableau qui suit.",
            labels=[label.replace(" à ", "–") for label, _ in durations],
            names=[label for label, _ in durations],
            values=[n for _, n in durations],
            unit="visites",
        ),
        returns_chart=bar_chart(
            title="Fréquence de retour, sur douze mois",
            description="Les visites selon le temps écoulé depuis la visite précédente du même "
            "navigateur ; les nombres exacts figurent dans le tableau qui suit.",
            labels=["1re visite", "≤ 1 j", "2–7 j", "8–30 j", "> 30 j"],
            names=[label for label, _ in returns],
            values=[n for _, n in returns],
            unit="visites",
        ),
        last_aggregated=AggregatedDay.objects.aggregate(m=Max("day"))["m"],
        raw_events=raw["n"],
        oldest_event=raw["first"],
    )
