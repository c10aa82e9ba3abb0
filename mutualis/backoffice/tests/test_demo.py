"""Demo staff accounts: one per service, confirmed TOTP with a fixed secret, idempotent."""

from __future__ import annotations

import datetime
from base64 import b32decode
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.backoffice import demo
from mutualis.members.models import User, UserKind
from mutualis.privacy import catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    # Codes change every 30 seconds: compute and check them at one instant.
    with time_machine.travel(
        datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC), tick=False
    ):
        yield


def test_it_creates_one_verified_staff_account_per_service_and_a_second_administrator():
    logins = demo.load()

    services = [*catalogue.ALL_SERVICES, catalogue.SERVICE_ADMIN]
    assert len(logins) == len(services)
    assert len({login.extra for login in logins}) == len(logins)  # no two share a TOTP key
    for service, login in zip(services, logins, strict=True):
        user = User.objects.get(email=login.login)
        assert user.kind == UserKind.STAFF and user.role == service.code
        assert user.check_password(demo.DEMO_PASSWORD) and login.password == demo.DEMO_PASSWORD
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed
        assert login.extra.startswith(f"clé TOTP {demo.base32_secret(device.key)} ;")
        assert login.url.endswith("/gestion/connexion/")


def test_it_is_idempotent_and_reproducible():
    first = demo.load()
    keys = dict(TOTPDevice.objects.values_list("user__email", "key"))
    second = demo.load()
    assert first == second
    assert User.objects.count() == len(catalogue.ALL_SERVICES) + 1
    assert dict(TOTPDevice.objects.values_list("user__email", "key")) == keys


def test_it_creates_no_member():
    demo.load()
    assert not User.objects.filter(kind=UserKind.MEMBER).exists()


def test_a_demo_login_works_with_the_printed_secret(client):
    login = next(entry for entry in demo.load() if entry.login == "gestion@mutuelle.example")
    secret = login.extra.removeprefix("clé TOTP ").split(" ;")[0]
    client.post(reverse("backoffice:login"), {"username": login.login, "password": login.password})
    code = f"{totp(b32decode(secret)):06d}"
    response = client.post(reverse("backoffice:login_code"), {"token": code})
    assert response.url == reverse("backoffice:home")


def test_demo_totp_prints_the_current_code_only_in_debug(settings):
    demo.load()
    with pytest.raises(CommandError):
        call_command("demo_totp", "gestion@mutuelle.example")
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_totp", "gestion@mutuelle.example", stdout=out)
    expected = totp(b32decode(demo.base32_secret(demo.demo_key("gestion"))))
    assert out.getvalue().strip() == f"{expected:06d}"


def test_demo_totp_refuses_a_real_account(settings, bob):
    from mutualis.backoffice.testing import give_device

    give_device(bob)
    settings.DEBUG = True
    with pytest.raises(CommandError):
        call_command("demo_totp", bob.email)
