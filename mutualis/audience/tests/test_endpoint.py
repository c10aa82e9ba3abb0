"""The first-party audience endpoint, its cookie (13 months, never extended) and the opt-out."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from mutualis.audience import visitor
from mutualis.audience.models import AudienceEvent
from mutualis.privacy import catalogue
from mutualis.web import ratelimit

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ENDPOINT = "/statistiques/evenement/"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ORIGIN = "http://testserver"


def _report(client, path="/", kind="view", duration=None, **headers):
    body = {"t": kind, "p": path}
    if duration is not None:
        body["d"] = duration
    headers.setdefault("HTTP_ORIGIN", ORIGIN)
    headers.setdefault("HTTP_USER_AGENT", FIREFOX)
    return client.post(ENDPOINT, json.dumps(body), content_type="application/json", **headers)


def test_a_first_report_records_the_route_and_the_browser_family_and_sets_the_cookie(client):
    at = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=PARIS)
    with time_machine.travel(at, tick=False):
        response = _report(client, "/confidentialite/?utm=x")
    assert response.status_code == 204
    event = AudienceEvent.objects.get()
    assert (event.kind, event.page, event.browser, event.at) == (
        "view",
        "web:policy",
        "Firefox",
        at,
    )
    cookie = response.cookies[catalogue.AUDIENCE_COOKIE]
    assert event.visitor_since == datetime.date(2026, 3, 10)
    assert event.visitor in cookie.value
    # 13 months from the first day at most: until the start of 10 April 2027.
    end = datetime.datetime(2027, 4, 10, tzinfo=PARIS)
    utc = datetime.UTC  # same-zone subtraction in Python ignores the change to summer time
    assert int(cookie["max-age"]) == int((end.astimezone(utc) - at.astimezone(utc)).total_seconds())
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_cookie_is_never_extended_on_a_later_visit(client):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 15, tzinfo=PARIS), tick=False):
        _report(client)
    with time_machine.travel(datetime.datetime(2027, 1, 5, 9, tzinfo=PARIS), tick=False):
        response = _report(client, "/cookies/")
    assert catalogue.AUDIENCE_COOKIE not in response.cookies
    assert AudienceEvent.objects.values("visitor").distinct().count() == 1


def test_a_cookie_past_its_13_months_is_refused_and_a_new_visitor_starts(client):
    with time_machine.travel(datetime.datetime(2026, 3, 10, 15, tzinfo=PARIS), tick=False):
        _report(client)
    with time_machine.travel(datetime.datetime(2027, 4, 9, 23, 59, tzinfo=PARIS), tick=False):
        assert catalogue.AUDIENCE_COOKIE not in _report(client).cookies
    with time_machine.travel(datetime.datetime(2027, 4, 10, 0, 0, tzinfo=PARIS), tick=False):
        response = _report(client)
    assert catalogue.AUDIENCE_COOKIE in response.cookies
    assert AudienceEvent.objects.values("visitor").distinct().count() == 2


def test_a_forged_cookie_date_is_refused(client):
    who = visitor.Visitor(id="b" * 32, since=datetime.date(2026, 1, 1))
    value = who.cookie_value().replace("20260101", "20990101")
    assert visitor.from_cookie(value) is None
    assert visitor.from_cookie("n'importe quoi") is None
    with time_machine.travel(datetime.datetime(2026, 6, 1, tzinfo=PARIS), tick=False):
        assert visitor.from_cookie(who.cookie_value()) == who


def test_no_address_is_stored(client):
    _report(client, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.4")
    row = str(list(AudienceEvent.objects.values()))
    assert "203.0.113" not in row and "198.51.100" not in row
    field_names = {f.name for f in AudienceEvent._meta.get_fields()}
    assert not field_names & {"ip", "ip_address", "address", "user_agent"}


def test_a_leave_report_keeps_the_visible_time_capped_at_six_hours(client):
    _report(client, "/", kind="leave", duration=12_345)
    _report(client, "/", kind="leave", duration=10**12)
    assert list(AudienceEvent.objects.order_by("id").values_list("duration_ms", flat=True)) == [
        12_345,
        6 * 3600 * 1000,
    ]


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_ORIGIN": "https://ailleurs.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}],
)
def test_a_report_from_another_site_is_refused(client, headers):
    assert _report(client, **headers).status_code == 403
    assert not AudienceEvent.objects.exists()


@pytest.mark.parametrize("signal", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_a_browser_sending_a_privacy_signal_is_not_measured(client, signal):
    response = _report(client, **signal)
    assert response.status_code == 204 and not response.cookies
    assert not AudienceEvent.objects.exists()


def test_robots_are_not_counted(client):
    _report(client, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert not AudienceEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        json.dumps({"t": "click", "p": "/"}).encode(),
        json.dumps({"t": "view", "p": "/gestion/"}).encode(),  # staff pages are not measured
        json.dumps({"t": "view", "p": "https://ailleurs.example/"}).encode(),
        json.dumps({"t": "view", "p": "/nulle-part/"}).encode(),
        json.dumps({"t": "leave", "p": "/", "d": "long"}).encode(),
        json.dumps({"t": "leave", "p": "/", "d": -5}).encode(),
        json.dumps({"t": "view", "p": "/" + "x" * 2000}).encode(),
    ],
)
def test_garbage_is_refused_without_a_500_and_records_nothing(client, body):
    response = client.post(
        ENDPOINT, body, content_type="application/json", HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=FIREFOX
    )
    assert response.status_code == 400
    assert not AudienceEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"t":"leave","p":"/","d":1e400}',
        b'{"t":"leave","p":"/","d":-1e400}',
        b'{"t":"leave","p":"/","d":Infinity}',
        b'{"t":"leave","p":"/","d":-Infinity}',
        b'{"t":"leave","p":"/","d":NaN}',
        b'{"t":"view","p":"/","d":NaN}',  # not JSON, whatever the kind
        b'{"t":"view","p":"/","x":[1e400, Infinity]}',
        b"[" * 1000 + b"]" * 24,  # nested deeper than the parser goes, within the size
    ],
)
def test_a_duration_that_is_not_a_finite_number_is_refused_without_a_500(client, body):
    response = client.post(
        ENDPOINT, body, content_type="application/json", HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=FIREFOX
    )
    assert response.status_code == 400
    assert not AudienceEvent.objects.exists()


def test_a_huge_integer_duration_is_capped_not_refused(client):
    body = b'{"t":"leave","p":"/","d":' + b"9" * 500 + b"}"
    response = client.post(
        ENDPOINT, body, content_type="application/json", HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=FIREFOX
    )
    assert response.status_code == 204
    assert AudienceEvent.objects.get().duration_ms == 6 * 3600 * 1000


def test_a_client_over_its_allowance_is_refused_and_nothing_more_is_recorded(client, monkeypatch):
    monkeypatch.setattr(ratelimit, "AUDIENCE_REPORT_LIMIT", 3)
    start = datetime.datetime(2026, 3, 10, 15, 0, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        assert [_report(client).status_code for _ in range(4)] == [204, 204, 204, 429]
        # Another client is counted apart.
        assert _report(Client(), REMOTE_ADDR="198.51.100.7").status_code == 204
    assert AudienceEvent.objects.count() == 4
    # The window slides: a minute later the first client may report again.
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        assert _report(client).status_code == 204
    assert AudienceEvent.objects.count() == 5


def test_the_allowance_is_counted_under_a_keyed_hash_never_the_address(client, monkeypatch):
    monkeypatch.setattr(ratelimit, "AUDIENCE_REPORT_LIMIT", 1)
    _report(client, REMOTE_ADDR="203.0.113.9")
    assert cache.get(ratelimit._key("audience", "203.0.113.9"))
    assert cache.get("203.0.113.9") is None
    assert "203.0.113.9" not in ratelimit._key("audience", "203.0.113.9")


def test_a_refusing_browser_is_not_counted_at_all(client, monkeypatch):
    monkeypatch.setattr(ratelimit, "AUDIENCE_REPORT_LIMIT", 1)
    for _ in range(3):
        assert _report(client, HTTP_SEC_GPC="1").status_code == 204
    assert cache.get(ratelimit._key("audience", "127.0.0.1")) is None


def test_a_page_with_an_id_is_recorded_by_its_route_only(alice):
    client = Client()
    client.force_login(alice.account)
    contract = alice.contracts.get()
    _report(client, f"/espace/contrats/{contract.pk}/")
    assert AudienceEvent.objects.get().page == "portal:contract"
    assert str(contract.pk) not in str(list(AudienceEvent.objects.values()))


def test_only_post_is_accepted(client):
    assert client.get(ENDPOINT).status_code == 405


# --- The opt-out on the cookies page ----------------------------------------------------------
def test_refusing_deletes_the_cookie_and_this_browser_s_events_and_stops_measuring(client):
    _report(client)
    _report(client, "/cookies/")
    page = client.get("/cookies/").content.decode()
    assert "Refuser la mesure d'audience" in page
    assert "web/audience.js" in page
    response = client.post("/cookies/mesure-audience/", {"mesure": "refuser"})
    assert response.status_code == 302
    assert response.cookies[catalogue.AUDIENCE_COOKIE].value == ""  # deleted
    assert response.cookies[catalogue.AUDIENCE_REFUSAL_COOKIE].value == "1"
    assert not AudienceEvent.objects.exists()
    # Honoured at once: nothing recorded, no cookie set, no script on the pages any more.
    after = _report(client)
    assert after.status_code == 204 and catalogue.AUDIENCE_COOKIE not in after.cookies
    assert not AudienceEvent.objects.exists()
    page = client.get("/cookies/?choix=enregistre").content.decode()
    assert "web/audience.js" not in page
    assert "Vous refusez la mesure d'audience" in page


def test_the_refusal_is_remembered_13_months_exactly_like_the_audience_cookie(client):
    at = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=PARIS)
    with time_machine.travel(at, tick=False):
        response = client.post("/cookies/mesure-audience/", {"mesure": "refuser"})
    # 13 months from 31 January 2026: the start of 28 February 2027 (the month is shorter).
    end = datetime.datetime(2027, 2, 28, tzinfo=PARIS)
    seconds = int((end.astimezone(datetime.UTC) - at.astimezone(datetime.UTC)).total_seconds())
    assert int(response.cookies[catalogue.AUDIENCE_REFUSAL_COOKIE]["max-age"]) == seconds
    assert seconds < 396 * 24 * 3600  # well under the 403 days of 13 × 31


def test_accepting_again_lifts_the_refusal(client):
    client.post("/cookies/mesure-audience/", {"mesure": "refuser"})
    response = client.post("/cookies/mesure-audience/", {"mesure": "accepter"})
    assert response.cookies[catalogue.AUDIENCE_REFUSAL_COOKIE].value == ""
    _report(client)
    assert AudienceEvent.objects.count() == 1


def test_the_choice_form_is_protected_against_cross_site_requests(db):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/cookies/mesure-audience/", {"mesure": "refuser"}).status_code == 403
