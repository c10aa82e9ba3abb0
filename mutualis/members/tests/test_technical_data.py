"""Technical data (policy 1-D, II): addresses only in the security log, sessions measured,
third-party tables (axes, sessions, second factors) within their declared retention."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

import conftest
from mutualis.audit.security import SecurityEvent, address_hash, pseudonymous_address
from mutualis.backoffice.testing import current_code, give_device
from mutualis.members.tags import SecurityKind
from mutualis.privacy import retention

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ADDRESS = "203.0.113.77"
MEMBER_LOGIN = "/espace/connexion/"
STAFF_LOGIN = "/gestion/connexion/"


def _member_login(client, email, password):
    return client.post(MEMBER_LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ADDRESS)


def _every_stored_value() -> str:
    """Every row of every installed model, as text: where an address could hide (an unmanaged
    table, the database cache's, does not exist with the memory cache of the tests)."""
    rows = []
    for model in apps.get_models():
        if model._meta.managed:
            rows.extend(str(row) for row in model._base_manager.values())
    return "\n".join(rows)


def _events(kind) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("at", "pk"))


# --- Logins in the security log ---------------------------------------------------------------
def test_a_member_login_is_in_the_security_log_with_the_network_and_never_the_address(
    client, alice
):
    assert _member_login(client, alice.account.email, conftest.PASSWORD).status_code == 302
    (event,) = _events(SecurityKind.LOGIN_SUCCEEDED)
    assert event.actor == f"user:{alice.account.pk}"
    assert event.network == "203.0.113.0/24"
    assert event.address_hash == address_hash(ADDRESS)
    assert event.details == {"space": "espace"}
    assert ADDRESS not in _every_stored_value()


def test_a_refused_member_login_is_logged_for_the_matched_account_only(client, alice):
    _member_login(client, alice.account.email, "wrong password")
    _member_login(client, "nobody@example.org", "wrong password")
    refused = _events(SecurityKind.LOGIN_REFUSED)
    assert [(e.actor, e.details["reason"]) for e in refused] == [
        (f"user:{alice.account.pk}", "invalid_credentials"),
        ("", "invalid_credentials"),
    ]
    assert "nobody@example.org" not in json.dumps([e.details for e in refused])


def test_a_lockout_is_logged_and_axes_keeps_only_a_pseudonym_of_the_address(
    client, alice, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _member_login(client, alice.account.email, "wrong password")
    assert _events(SecurityKind.LOGIN_LOCKED)
    attempt = AccessAttempt.objects.get()
    assert attempt.ip_address == pseudonymous_address(ADDRESS)
    assert attempt.ip_address.startswith("fd")
    assert "password" in attempt.post_data and "wrong password" not in attempt.post_data
    assert ADDRESS not in _every_stored_value()


def test_the_pseudonym_is_stable_per_address_and_differs_between_addresses():
    assert pseudonymous_address(ADDRESS) == pseudonymous_address(ADDRESS)
    assert pseudonymous_address(ADDRESS) != pseudonymous_address("203.0.113.78")


def test_a_staff_login_writes_each_step_to_the_security_log(client, bob):
    device = give_device(bob)
    client.post(STAFF_LOGIN, {"username": bob.email, "password": "nope"}, REMOTE_ADDR=ADDRESS)
    client.post(
        STAFF_LOGIN, {"username": bob.email, "password": conftest.PASSWORD}, REMOTE_ADDR=ADDRESS
    )
    client.post("/gestion/connexion/code/", {"token": "000000"}, REMOTE_ADDR=ADDRESS)
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    client.post("/gestion/connexion/code/", {"token": current_code(device)}, REMOTE_ADDR=ADDRESS)
    refused = _events(SecurityKind.LOGIN_REFUSED)
    assert [(e.actor, e.details) for e in refused] == [
        (f"user:{bob.pk}", {"space": "gestion", "reason": "invalid_login"}),
        (f"user:{bob.pk}", {"space": "gestion", "reason": "wrong_code"}),
    ]
    (success,) = _events(SecurityKind.LOGIN_SUCCEEDED)
    assert success.details == {"space": "gestion"} and success.network == "203.0.113.0/24"
    assert ADDRESS not in _every_stored_value()


# --- Session durations ----------------------------------------------------------------------
def test_a_logout_records_how_long_the_session_lasted(client, alice):
    start = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        _member_login(client, alice.account.email, conftest.PASSWORD)
    with time_machine.travel(start + datetime.timedelta(minutes=12, seconds=5), tick=False):
        client.post("/espace/deconnexion/")
    (ended,) = _events(SecurityKind.SESSION_ENDED)
    assert ended.details == {"space": "espace", "duration_s": 725, "ended": "logout"}
    assert ended.actor == f"user:{alice.account.pk}"


@pytest.mark.parametrize("how", ["clearsessions", "retention"])
def test_an_expired_session_is_measured_up_to_its_last_request_then_deleted(
    client, alice, settings, how
):
    start = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        _member_login(client, alice.account.email, conftest.PASSWORD)
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        assert client.get("/espace/").status_code == 200  # the last request
    assert Session.objects.count() == 1
    expired = start + datetime.timedelta(minutes=20, seconds=settings.SESSION_COOKIE_AGE + 1)
    with time_machine.travel(expired, tick=False):
        if how == "clearsessions":
            call_command("clearsessions")  # daily at 03:00: every expired session
        else:
            retention.enforce(only_app="sessions")  # nightly: a day after the end at most
            assert Session.objects.count() == 1
    with time_machine.travel(expired + datetime.timedelta(days=1), tick=False):
        retention.enforce(only_app="sessions")
    assert not Session.objects.exists()
    (ended,) = _events(SecurityKind.SESSION_ENDED)
    assert ended.details == {"space": "espace", "duration_s": 1200, "ended": "expired"}


def test_a_session_still_open_is_neither_measured_nor_deleted(client, alice):
    _member_login(client, alice.account.email, conftest.PASSWORD)
    call_command("clearsessions")
    retention.enforce(only_app="sessions")
    assert Session.objects.count() == 1
    assert not _events(SecurityKind.SESSION_ENDED)


# --- Cookies ------------------------------------------------------------------------------
def test_the_csrf_cookie_lives_for_the_browsing_session_only(client, settings):
    response = client.get(MEMBER_LOGIN)
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == "" and cookie["expires"] == ""


# --- Retention of the third-party tables --------------------------------------------------------
def test_failed_login_attempts_go_after_six_months(client, alice):
    with time_machine.travel(datetime.datetime(2026, 1, 10, 9, tzinfo=PARIS), tick=False):
        _member_login(client, alice.account.email, "wrong password")
    assert AccessAttempt.objects.count() == 1
    with time_machine.travel(datetime.datetime(2026, 7, 10, 8, tzinfo=PARIS), tick=False):
        retention.enforce(only_app="axes")
    assert AccessAttempt.objects.count() == 1  # six months not yet over
    with time_machine.travel(datetime.datetime(2026, 7, 10, 10, tzinfo=PARIS), tick=False):
        retention.enforce(only_app="axes")
    assert not AccessAttempt.objects.exists()


def test_an_unconfirmed_second_factor_goes_after_a_week_a_confirmed_one_stays(bob, charlie):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=PARIS), tick=False):
        pending = give_device(charlie, confirmed=False)
        kept = give_device(bob)
    with time_machine.travel(datetime.datetime(2026, 3, 9, 8, tzinfo=PARIS), tick=False):
        retention.enforce(only_app="otp_totp")
    assert TOTPDevice.objects.filter(pk=pending.pk).exists()
    with time_machine.travel(datetime.datetime(2026, 3, 9, 10, tzinfo=PARIS), tick=False):
        retention.enforce(only_app="otp_totp")
    assert list(TOTPDevice.objects.values_list("pk", flat=True)) == [kept.pk]
    assert timezone.now() > kept.created_at
