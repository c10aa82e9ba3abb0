"""The rate limits' database cache as declared technical data: keyed hashes only, every expired
entry deleted by the retention engine, privacy_check T2 and T10 on it."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.privacy import retention
from mutualis.privacy.promise_checks import records_past_their_stage
from mutualis.privacy.third_party import no_technical_log_past_six_months
from mutualis.web import ratelimit
from mutualis.web.models import CacheEntry
from mutualis.web.tags import WebTag

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
T0 = datetime.datetime(2026, 5, 4, 10, 0, tzinfo=PARIS)


@pytest.fixture
def database_cache(settings):
    """The cache of several workers (MUTUALIS_CACHE=db), its table created."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CacheEntry._meta.db_table,
        }
    }
    call_command("createcachetable")
    yield cache
    cache.clear()


def _attempt(address: str, *, at: datetime.datetime, window: int = 3600) -> None:
    with time_machine.travel(at, tick=False):
        assert ratelimit.RateLimit(scope="contact", limit=5, window=window).allow(address)


def test_the_cache_keeps_a_keyed_hash_never_the_address(database_cache):
    _attempt("203.0.113.9", at=T0)
    (entry,) = CacheEntry.objects.all()
    assert "203.0.113" not in entry.cache_key and "203.0.113" not in entry.value
    assert entry.cache_key.endswith(ratelimit._key("contact", "203.0.113.9"))


def test_the_retention_engine_deletes_every_expired_entry_and_keeps_the_others(database_cache):
    _attempt("203.0.113.9", at=T0)  # expires at 11:00
    _attempt("198.51.100.7", at=T0 + datetime.timedelta(hours=2))  # expires at 13:00
    with time_machine.travel(T0 + datetime.timedelta(hours=2, minutes=30), tick=False):
        report = retention.enforce(only_app="web")
    assert [e.cache_key for e in CacheEntry.objects.all()] == [
        ":1:" + ratelimit._key("contact", "198.51.100.7")
    ]
    assert sum(step.rows for step in report.steps) == 1
    assert Event.objects.get(tag=WebTag.CACHE_EXPIRE).details == {"rows": 1, "batch": 1}


def test_an_entry_a_day_past_its_window_is_a_breach_of_t2_and_t10(database_cache):
    _attempt("203.0.113.9", at=T0)  # expires at 11:00
    day_after = T0 + datetime.timedelta(days=1, hours=1)
    with time_machine.travel(day_after - datetime.timedelta(minutes=1), tick=False):
        assert no_technical_log_past_six_months(timezone.now()).breaches == []
    with time_machine.travel(day_after + datetime.timedelta(minutes=1), tick=False):
        (t10,) = no_technical_log_past_six_months(timezone.now()).breaches
        t2 = records_past_their_stage(timezone.now()).breaches
        retention.enforce(only_app="web")
        assert no_technical_log_past_six_months(timezone.now()).breaches == []
    assert t10.startswith("web.CacheEntry") and "1 enregistrement au-delà" in t10
    assert any(line.startswith("web.CacheEntry") for line in t2)


def test_with_the_memory_cache_there_is_no_table_and_nothing_to_do(db):
    from django.db import connection

    assert CacheEntry._meta.db_table not in connection.introspection.table_names()
    assert ratelimit.expire_entries(before=timezone.now()) == (0, 0)
    assert no_technical_log_past_six_months(timezone.now()).breaches == []


def test_the_audience_endpoint_counts_a_client_under_the_same_keyed_hash(database_cache):
    request = RequestFactory().post("/", REMOTE_ADDR="2001:db8:1:2::5")
    assert ratelimit.client_address(request) == "2001:db8:1:2::/64"
    assert ratelimit.audience_report_limit().allow(ratelimit.client_address(request))
    (entry,) = CacheEntry.objects.all()
    assert "2001" not in entry.cache_key and entry.cache_key.startswith(":1:ratelimit:audience:")
