"""Raw audience events become anonymous daily figures; after 25 months only the figures stay."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from mutualis.audience import aggregation
from mutualis.audience.models import AggregatedDay, AudienceEvent, DailyAggregate, Dimension
from mutualis.privacy import retention

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DAY = datetime.date(2026, 4, 14)


def at(hour, minute=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


def event(
    visitor, moment, kind="view", page="web:home", browser="Firefox", duration=None, since=DAY
):
    return AudienceEvent.objects.create(
        visitor=visitor * 32,
        visitor_since=since,
        at=moment,
        kind=kind,
        page=page,
        browser=browser,
        duration_ms=duration,
    )


def figures(day=DAY) -> dict:
    found: dict = {}
    for dimension, key, value in DailyAggregate.objects.filter(day=day).values_list(
        "dimension", "key", "value"
    ):
        found.setdefault(dimension, {})[key] = value
    return found


@pytest.fixture
def a_day():
    # Visitor a: new today; one visit of two pages, 40 s visible in all.
    event("a", at(9, 0))
    event("a", at(9, 0), kind="leave", duration=15_000)
    event("a", at(9, 1), page="web:policy")
    event("a", at(9, 2), kind="leave", page="web:policy", duration=25_000)
    # ... and a second visit after more than 30 minutes, one page, no leave report.
    event("a", at(11, 0), page="web:cookies")
    # Visitor b: came back after 10 days, on Chrome, one page.
    event(
        "b",
        at(20, 0, day=DAY - datetime.timedelta(days=10)),
        since=DAY - datetime.timedelta(days=10),
    )
    event("b", at(10, 0), browser="Chrome", since=DAY - datetime.timedelta(days=10))
    event(
        "b",
        at(10, 3),
        kind="leave",
        browser="Chrome",
        duration=200_000,
        since=DAY - datetime.timedelta(days=10),
    )
    # An event of the next day is not counted.
    event("c", at(0, 5, day=DAY + datetime.timedelta(days=1)))


def test_a_day_is_summed_into_visits_pages_browsers_durations_and_returns(a_day):
    with time_machine.travel(at(3, day=DAY + datetime.timedelta(days=1)), tick=False):
        assert aggregation.aggregate_day(DAY) == 7
    found = figures()
    assert found[Dimension.TOTAL] == {
        "visits": 3,
        "visitors": 2,
        "new_visitors": 1,
        "page_views": 4,
        "single_page_visits": 2,
        "seconds": 40 + 0 + 200,
    }
    assert found[Dimension.PAGE] == {"web:home": 2, "web:policy": 1, "web:cookies": 1}
    assert found[Dimension.BROWSER] == {"Firefox": 2, "Chrome": 1}
    assert found[Dimension.DURATION] == {"30 s à 1 min": 1, "moins de 10 s": 1, "3 à 10 min": 1}
    assert found[Dimension.RETURN] == {
        "première visite": 1,
        "le même jour ou la veille": 1,  # a's second visit
        "8 à 30 jours après": 1,  # b, ten days later
    }
    assert not DailyAggregate.objects.filter(key__contains="a" * 32).exists()


def test_aggregating_again_gives_the_same_figures(a_day):
    with time_machine.travel(at(3, day=DAY + datetime.timedelta(days=1)), tick=False):
        aggregation.aggregate_day(DAY)
        first = figures()
        aggregation.aggregate_day(DAY)
    assert figures() == first


def test_a_day_not_finished_is_not_aggregated(a_day):
    with time_machine.travel(at(23, 59), tick=False), pytest.raises(ValueError):
        aggregation.aggregate_day(DAY)


def test_the_command_aggregates_every_finished_day_once(a_day):
    out = io.StringIO()
    with time_machine.travel(at(3, day=DAY + datetime.timedelta(days=2)), tick=False):
        call_command("aggregate_statistics", stdout=out)
        assert list(AggregatedDay.objects.order_by("day").values_list("day", "events")) == [
            (DAY - datetime.timedelta(days=10), 1),
            *[(DAY - datetime.timedelta(days=n), 0) for n in range(9, 0, -1)],
            (DAY, 7),
            (DAY + datetime.timedelta(days=1), 1),
        ]
        call_command("aggregate_statistics", stdout=out)
    assert "12 jours agrégés" in out.getvalue()
    assert "Aucun jour à agréger." in out.getvalue()


def test_after_25_months_raw_events_go_and_their_figures_stay(a_day):
    # Nothing aggregated beforehand: the retention engine aggregates before it deletes.
    later = at(12, day=datetime.date(2028, 5, 15))
    with time_machine.travel(later, tick=False):
        report = retention.enforce(only_app="audience")
    assert not AudienceEvent.objects.exists()
    assert sum(step.rows for step in report.steps) == 9
    assert figures()[Dimension.TOTAL]["visits"] == 3


def test_raw_events_younger_than_25_months_stay(a_day):
    with time_machine.travel(at(8, day=datetime.date(2028, 5, 14)), tick=False):
        retention.enforce(only_app="audience")
    assert AudienceEvent.objects.filter(at__date__gte=DAY).count() == 8
