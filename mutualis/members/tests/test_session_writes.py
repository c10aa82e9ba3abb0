"""Session writes: the idle clock restarts at each request, but a request that changed nothing in
the session writes its row at most once a minute; the idle expiry never comes later for it."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

import conftest
from mutualis.members.sessions import EXPIRY_REFRESH, SessionStore

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)


def _login(client, alice) -> None:
    response = client.post(
        "/espace/connexion/", {"username": alice.account.email, "password": conftest.PASSWORD}
    )
    assert response.status_code == 302


def _stored_expiry() -> datetime.datetime:
    (row,) = Session.objects.all()
    return row.expire_date


def _session_writes(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT"))]


def test_pages_read_within_a_minute_of_the_last_write_leave_the_session_row_alone(
    client, alice, settings
):
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, alice)
        assert _stored_expiry() == START + idle
        traveller.shift(datetime.timedelta(seconds=20))
        assert _session_writes(client, "/espace/") == []
        traveller.shift(datetime.timedelta(seconds=39))
        assert _session_writes(client, "/espace/messages/") == []
        assert _stored_expiry() == START + idle


def test_a_page_read_a_minute_or_more_after_the_last_write_moves_the_expiry_on(
    client, alice, settings
):
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, alice)
        traveller.shift(EXPIRY_REFRESH)
        (write,) = _session_writes(client, "/espace/")
        assert "django_session" in write
        assert _stored_expiry() == START + EXPIRY_REFRESH + idle


def test_a_session_idle_for_the_idle_time_after_an_unwritten_request_is_over(
    client, alice, settings
):
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, alice)
        traveller.shift(datetime.timedelta(seconds=30))
        assert client.get("/espace/").status_code == 200  # the last request, not written
        traveller.shift(idle)  # idle for the idle time since that request
        response = client.get("/espace/")
    assert response.status_code == 302
    assert response["Location"].startswith("/espace/connexion/")


def test_a_changed_session_is_written_at_once_even_within_the_minute():
    with time_machine.travel(START, tick=False) as traveller:
        store = SessionStore()
        store["step"] = 1
        store.save()
        traveller.shift(datetime.timedelta(seconds=5))
        again = SessionStore(store.session_key)
        assert again["step"] == 1
        again["step"] = 2
        again.save()
        assert SessionStore(store.session_key)["step"] == 2


def test_an_unchanged_session_store_writes_nothing_within_the_minute():
    with time_machine.travel(START, tick=False) as traveller:
        store = SessionStore()
        store["step"] = 1
        store.save()
        traveller.shift(datetime.timedelta(seconds=59))
        again = SessionStore(store.session_key)
        assert again["step"] == 1
        with CaptureQueriesContext(connection) as queries:
            again.save()
        assert len(queries) == 0
        traveller.shift(datetime.timedelta(seconds=1))
        later = SessionStore(store.session_key)
        assert later["step"] == 1
        with CaptureQueriesContext(connection) as queries:
            later.save()
        assert any(q["sql"].startswith("UPDATE") for q in queries)
