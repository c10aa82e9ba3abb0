"""The figures of the DPO's rights dashboard, and their charts drawn as inline SVG.

Two series over the last twelve months (the current one included):

- requests received per month, by kind (a stacked bar per month);
- answer times against the deadline: per month of answer, the average number of days taken
  beside the average number of days the deadline allowed (extensions and identity waits
  included), with the answers given after their deadline counted.

Everything is computed here, in Python: the template only writes the shapes out (SVG
presentation attributes, never a ``style`` attribute: the Content-Security-Policy forbids inline
styles), and the same numbers are given as a table for those who cannot see the chart.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format

from mutualis.lib.dates import add_months
from mutualis.rights.models import Kind, RightsRequest

MONTHS = 12
SHORT_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
# Okabe–Ito palette (readable with the common colour-vision deficiencies), then two greys; the
# chart never relies on colour alone: every bar has a title, and the table gives the numbers.
KIND_COLOURS = {
    Kind.ACCESS: "#0072B2",
    Kind.RECTIFICATION: "#E69F00",
    Kind.ERASURE: "#D55E00",
    Kind.OBJECTION: "#CC79A7",
    Kind.MARKETING_OBJECTION: "#009E73",
    Kind.POST_MORTEM: "#000000",
    Kind.PORTABILITY: "#56B4E9",
    Kind.RESTRICTION: "#8C6D00",
    Kind.CONSENT_WITHDRAWAL: "#6B6B6B",
}
ON_TIME_COLOUR = "#0072B2"
LATE_COLOUR = "#B00020"
DEADLINE_COLOUR = "#1A1A1A"

# Geometry (user units of the viewBox).
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 30, 40


def month_starts(today: datetime.date) -> list[datetime.date]:
    """The first days of the last :data:`MONTHS` months, oldest first, this month last."""
    first = today.replace(day=1)
    return [add_months(first, -n) for n in range(MONTHS - 1, -1, -1)]


def _since(months: list[datetime.date]) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(months[0], datetime.time.min))


def _month_of(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment).replace(day=1)


def month_label(month: datetime.date) -> str:
    return date_format(month, "F Y")


def short_label(month: datetime.date) -> str:
    return f"{SHORT_MONTHS[month.month - 1]} {month:%y}"


def nice_scale(maximum: float, ticks: int = 5) -> tuple[float, float]:
    """A round top of the axis and the step between its graduations."""
    if maximum <= 0:
        return 1, 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    step = max(step, 1)
    return math.ceil(maximum / step) * step, step


# --- The figures -------------------------------------------------------------------------------
@dataclass
class MonthCount:
    month: datetime.date
    by_kind: dict[str, int]

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def cells(self, kinds) -> list[int]:
        return [self.by_kind.get(kind, 0) for kind in kinds]


@dataclass
class MonthTimes:
    month: datetime.date
    answered: int = 0
    late: int = 0
    days_taken: list[int] = field(default_factory=list)
    days_allowed: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def on_time(self) -> int:
        return self.answered - self.late

    @property
    def average_taken(self) -> float | None:
        return sum(self.days_taken) / len(self.days_taken) if self.days_taken else None

    @property
    def average_allowed(self) -> float | None:
        return sum(self.days_allowed) / len(self.days_allowed) if self.days_allowed else None

    @property
    def longest(self) -> int | None:
        return max(self.days_taken) if self.days_taken else None


def requests_per_month(today: datetime.date) -> tuple[list[str], list[MonthCount]]:
    """Requests received per month and kind (the kinds present, in the model's order)."""
    months = month_starts(today)
    rows = (
        RightsRequest.objects.filter(received_at__gte=_since(months))
        .annotate(month=TruncMonth("received_at"))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {month: MonthCount(month, {}) for month in months}
    for row in rows:
        month = row["month"]
        month = timezone.localdate(month) if isinstance(month, datetime.datetime) else month
        month = month.replace(day=1)
        if month in counts:
            by_kind = counts[month].by_kind
            by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + row["n"]
    present = {kind for count in counts.values() for kind in count.by_kind}
    kinds = [kind for kind in Kind.values if kind in present]
    return kinds, list(counts.values())


def answer_times(today: datetime.date) -> list[MonthTimes]:
    """Per month of answer: how many answers, how many late, days taken and allowed."""
    months = month_starts(today)
    times = {month: MonthTimes(month) for month in months}
    rows = RightsRequest.objects.filter(
        answered_at__isnull=False, answered_at__gte=_since(months)
    ).values_list("received_at", "answered_at", "due_date")
    for received_at, answered_at, due in rows.iterator():
        entry = times.get(_month_of(answered_at))
        if entry is None:
            continue
        received = timezone.localdate(received_at)
        answered = timezone.localdate(answered_at)
        entry.answered += 1
        entry.late += answered > due
        entry.days_taken.append((answered - received).days)
        entry.days_allowed.append((due - received).days)
    return list(times.values())


# --- The drawings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str
    pattern: bool = False


@dataclass(frozen=True)
class Mark:
    x1: float
    x2: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    fill: str
    label: str
    shape: str = "box"  # "box", "hatched" (the chart's pattern) or "line"


@dataclass
class Chart:
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    rects: list[Rect] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    axis_label: str = ""

    @property
    def left(self) -> int:
        return LEFT

    @property
    def tick_x(self) -> int:
        return LEFT - 6

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM

    @property
    def label_y(self) -> int:
        return self.height - BOTTOM + 18


def _frame(chart: Chart, months: list[datetime.date], top: float, step: float, unit: str):
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(months)

    def y_of(value: float) -> float:
        return round(HEIGHT - BOTTOM - value / top * plot_height, 1)

    value = 0.0
    while value <= top + 1e-9:
        chart.ticks.append(Tick(y_of(value), f"{value:g}"))
        value += step
    chart.x_labels = [
        XLabel(round(LEFT + slot * (i + 0.5), 1), short_label(m)) for i, m in enumerate(months)
    ]
    chart.axis_label = unit
    return slot, y_of


def requests_chart(kinds: list[str], counts: list[MonthCount]) -> Chart:
    total = sum(c.total for c in counts)
    chart = Chart(
        title="Demandes reçues par mois et par nature, sur douze mois",
        description=f"{total} demande{'s' if total > 1 else ''} reçue{'s' if total > 1 else ''} "
        f"de {counts[0].label} à {counts[-1].label}. Les nombres exacts figurent dans le "
        "tableau qui suit.",
    )
    top, step = nice_scale(max((c.total for c in counts), default=0))
    slot, y_of = _frame(chart, [c.month for c in counts], top, step, "demandes")
    width = round(slot * 0.6, 1)
    labels = dict(Kind.choices)
    for i, count in enumerate(counts):
        x = round(LEFT + slot * i + (slot - width) / 2, 1)
        stacked = 0
        for kind in kinds:
            n = count.by_kind.get(kind, 0)
            if not n:
                continue
            y_top, y_bottom = y_of(stacked + n), y_of(stacked)
            chart.rects.append(
                Rect(
                    x,
                    y_top,
                    width,
                    round(y_bottom - y_top, 1),
                    KIND_COLOURS[kind],
                    f"{count.label} — {labels[kind]} : {n}",
                )
            )
            stacked += n
    chart.legend = [LegendItem(KIND_COLOURS[kind], labels[kind]) for kind in kinds]
    return chart


def times_chart(times: list[MonthTimes]) -> Chart:
    answered = sum(t.answered for t in times)
    late = sum(t.late for t in times)
    chart = Chart(
        title="Délais de réponse comparés au délai légal, par mois de réponse",
        description=f"{answered} réponse{'s' if answered > 1 else ''} sur douze mois, dont "
        f"{late} après la date limite. Pour chaque mois, la barre donne le délai moyen de "
        "réponse en jours, le trait le délai moyen accordé. Les nombres exacts figurent dans "
        "le tableau qui suit.",
    )
    highest = max(
        [t.average_taken or 0 for t in times] + [t.average_allowed or 0 for t in times],
        default=0,
    )
    top, step = nice_scale(highest)
    slot, y_of = _frame(chart, [t.month for t in times], top, step, "jours")
    width = round(slot * 0.5, 1)
    for i, entry in enumerate(times):
        if not entry.answered:
            continue
        x = round(LEFT + slot * i + (slot - width) / 2, 1)
        taken = entry.average_taken or 0
        allowed = entry.average_allowed or 0
        y_top = y_of(taken)
        late = f", dont {entry.late} en retard" if entry.late else ", toutes dans le délai"
        chart.rects.append(
            Rect(
                x,
                y_top,
                width,
                round(y_of(0) - y_top, 1),
                LATE_COLOUR if entry.late else ON_TIME_COLOUR,
                f"{entry.label} — {entry.answered} réponse{'s' if entry.answered > 1 else ''}"
                f"{late} ; délai moyen {taken:.0f} jours",
                pattern=bool(entry.late),
            )
        )
        chart.marks.append(
            Mark(
                round(x - slot * 0.12, 1),
                round(x + width + slot * 0.12, 1),
                y_of(allowed),
                f"{entry.label} — délai accordé en moyenne : {allowed:.0f} jours",
            )
        )
    chart.legend = [
        LegendItem(ON_TIME_COLOUR, "Délai moyen de réponse, toutes les réponses dans le délai"),
        LegendItem(
            LATE_COLOUR, "Délai moyen de réponse, au moins une réponse en retard", "hatched"
        ),
        LegendItem(DEADLINE_COLOUR, "Délai accordé en moyenne (date limite)", "line"),
    ]
    return chart


@dataclass
class Dashboard:
    kinds: list[tuple[str, str]]
    counts: list[MonthCount]
    times: list[MonthTimes]
    requests_chart: Chart
    times_chart: Chart

    @property
    def count_rows(self) -> list[tuple[str, list[int], int]]:
        """(month, count per kind in :attr:`kinds` order, total), for the table."""
        codes = [kind for kind, _ in self.kinds]
        return [(c.label, c.cells(codes), c.total) for c in self.counts]

    @property
    def kind_totals(self) -> list[int]:
        return [sum(c.by_kind.get(kind, 0) for c in self.counts) for kind, _ in self.kinds]

    @property
    def total(self) -> int:
        return sum(c.total for c in self.counts)


def dashboard(today: datetime.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    kinds, counts = requests_per_month(today)
    times = answer_times(today)
    labels = dict(Kind.choices)
    return Dashboard(
        kinds=[(kind, labels[kind]) for kind in kinds],
        counts=counts,
        times=times,
        requests_chart=requests_chart(kinds, counts),
        times_chart=times_chart(times),
    )
