"""``privacy_check`` T7 (cookies and audience statistics) and T10 (technical logs)."""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone

from mutualis.audience.models import AudienceEvent
from mutualis.audit.security import SecurityEvent, record_security_event
from mutualis.lib.french import plain
from mutualis.privacy import catalogue
from mutualis.privacy.third_party import no_technical_log_past_six_months
from mutualis.web import privacy as web_privacy
from mutualis.web.privacy import cookies_and_statistics_as_declared

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2027, 6, 15, 12, tzinfo=PARIS)


def _t7(now=None) -> list[str]:
    return cookies_and_statistics_as_declared(now or timezone.now()).breaches


def _event(at, since):
    return AudienceEvent.objects.create(
        at=at,
        visitor="a" * 32,
        visitor_since=since,
        kind="view",
        page="web:home",
        browser="Firefox",
    )


# --- T7 --------------------------------------------------------------------------------------
def test_the_site_as_configured_keeps_the_cookie_promises(db):
    assert _t7() == []
    assert not AudienceEvent.objects.exists()  # the check's own requests left nothing


def test_it_observes_the_audience_cookie_and_its_life(db):
    seen, extended = web_privacy.observed_cookies("localhost")
    cookie = seen[catalogue.AUDIENCE_COOKIE]
    assert 0 < int(cookie["max-age"]) <= 13 * 31 * 24 * 3600
    assert extended is False


def test_a_csrf_cookie_that_outlives_the_session_is_a_breach(settings):
    settings.CSRF_COOKIE_AGE = 3600
    found = _t7()
    assert "le cookie CSRF dure au-delà de la session (CSRF_COOKIE_AGE)" in found
    assert "csrftoken dure 3600 s au lieu de la session" in found


def test_an_undeclared_cookie_is_a_breach(db, monkeypatch):
    declared = [c for c in catalogue.declared_cookies() if c.name != "csrftoken"]
    monkeypatch.setattr(catalogue, "declared_cookies", lambda: tuple(declared))
    (line,) = [b for b in _t7() if "csrftoken" in b]
    assert plain(line).startswith("cookie non déclaré déposé : csrftoken (")


def test_it_logs_in_as_a_member_and_as_staff_and_leaves_a_flash_message_in_each_space(db):
    from mutualis.members.models import User

    seen = web_privacy.observe("localhost")
    where = {(name, page) for name, _, page in seen.settings}
    # Each logout left its message in a new session: only the session cookie carried it.
    assert {("sessionid", "portal:logout"), ("sessionid", "backoffice:logout")} <= where
    assert {name for name, _, _ in seen.settings} <= {c.name for c in catalogue.declared_cookies()}
    assert not User.objects.exists()  # the accounts made for the visit went with it


def test_flash_messages_kept_in_a_cookie_are_an_undeclared_cookie(settings):
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
    (line,) = [plain(b) for b in _t7() if "messages" in b]
    assert line == "cookie non déclaré déposé : messages (backoffice:logout, portal:logout)"


def test_the_project_keeps_flash_messages_in_the_session(settings):
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.session.SessionStorage"
    assert _t7() == []


def test_a_refusal_cookie_living_more_than_13_months_is_a_breach(db, monkeypatch):
    from mutualis.web import audience

    monkeypatch.setattr(audience.visitor, "seconds_left", lambda day: 13 * 31 * 24 * 3600)
    lines = [plain(b) for b in _t7()]
    assert "mutualis_audience_refus dure plus de 13 mois (34819200 s)" in lines


def test_a_cookie_living_longer_than_declared_is_a_breach(db, monkeypatch):
    declared = [
        dataclasses.replace(c, max_age=3600) if c.name == catalogue.AUDIENCE_COOKIE else c
        for c in catalogue.declared_cookies()
    ]
    monkeypatch.setattr(catalogue, "declared_cookies", lambda: tuple(declared))
    assert any("mutualis_audience dure plus longtemps" in d for d in _t7())


def test_raw_events_past_25_months_are_a_breach_at_the_day(db):
    with time_machine.travel(NOW, tick=False):
        _event(datetime.datetime(2025, 5, 15, 13, tzinfo=PARIS), datetime.date(2025, 5, 1))
        assert not any("25 mois" in d for d in _t7())
        _event(datetime.datetime(2025, 5, 15, 11, tzinfo=PARIS), datetime.date(2025, 5, 1))
        assert "1 événement brut de mesure d'audience de plus de 25 mois" in _t7()


def test_an_event_recorded_with_a_cookie_past_13_months_is_a_breach(db):
    with time_machine.travel(NOW, tick=False):
        # First visit 28 February 2026: the cookie's life ends at the start of 28 March 2027.
        _event(datetime.datetime(2027, 3, 27, 23, 59, tzinfo=PARIS), datetime.date(2026, 2, 28))
        assert not any("13 mois" in d for d in _t7())
        _event(datetime.datetime(2027, 3, 28, 0, 0, tzinfo=PARIS), datetime.date(2026, 2, 28))
        assert "1 événement enregistré avec un cookie de plus de 13 mois" in _t7()


def test_t7_is_named_in_privacy_check(settings, capsys):
    from django.core.management import call_command

    settings.CSRF_COOKIE_AGE = 3600
    with pytest.raises(SystemExit):
        call_command("privacy_check")
    assert "MANQUEMENT T7 — " in capsys.readouterr().out


# --- T10 -------------------------------------------------------------------------------------
def test_a_technical_log_older_than_six_months_is_a_breach(db):
    with time_machine.travel(datetime.datetime(2026, 12, 15, 13, tzinfo=PARIS), tick=False):
        record_security_event("members:login:refused")
    with time_machine.travel(datetime.datetime(2026, 12, 15, 11, tzinfo=PARIS), tick=False):
        AccessAttempt.objects.create(
            username="x", user_agent="y", http_accept="z", path_info="/", failures_since_start=1
        )
        old = record_security_event("members:login:refused")
    with time_machine.travel(NOW, tick=False):
        breaches = no_technical_log_past_six_months(timezone.now()).breaches
    assert len(breaches) == 2
    assert {b.split(":")[0].rstrip(" \u00a0") for b in breaches} == {
        "audit.SecurityEvent",
        "axes.AccessAttempt",
    }
    assert "1 enregistrement au-delà de la durée de conservation, 6 mois" in breaches[0]
    SecurityEvent.objects.filter(pk=old.pk).delete()
    AccessAttempt.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        assert no_technical_log_past_six_months(timezone.now()).breaches == []


def test_a_session_a_day_past_its_end_is_a_breach_by_its_own_rule_not_six_months(db):
    from django.contrib.sessions.models import Session

    expired = datetime.datetime(2027, 6, 14, 11, 0, tzinfo=PARIS)  # NOW less a day and an hour
    Session.objects.create(session_key="a" * 32, session_data="", expire_date=expired)
    with time_machine.travel(NOW - datetime.timedelta(hours=2), tick=False):
        assert no_technical_log_past_six_months(timezone.now()).breaches == []
    with time_machine.travel(NOW, tick=False):
        (breach,) = no_technical_log_past_six_months(timezone.now()).breaches
    assert breach.startswith("sessions.Session")
    assert "1 jour à compter de l'expiration" in breach.replace("\u00a0", " ")
    Session.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        assert no_technical_log_past_six_months(timezone.now()).breaches == []
