"""Staff login: password, then a TOTP code; enrolment of a first device; logout."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from mutualis.audit.models import Event
from mutualis.backoffice.testing import current_code, give_device, page_text
from mutualis.members.tags import MembersTag

pytestmark = pytest.mark.django_db

LOGIN = reverse("backoffice:login")
CODE = reverse("backoffice:login_code")
ENROL = reverse("backoffice:enrol")
HOME = reverse("backoffice:home")
SEARCH = reverse("backoffice:member_search")
NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _password(client, user, password=PASSWORD, next_url=""):
    url = f"{LOGIN}?next={next_url}" if next_url else LOGIN
    return client.post(url, {"username": user.email, "password": password})


def test_it_logs_staff_in_with_password_then_code(client, bob):
    device = give_device(bob)

    response = _password(client, bob)
    assert response.status_code == 302 and response.url == CODE
    # The password alone does not log in.
    assert "_auth_user_id" not in client.session
    assert client.get(HOME).status_code == 302

    response = client.post(CODE, {"token": current_code(device)})
    assert response.status_code == 302 and response.url == HOME
    assert client.get(HOME).status_code == 200
    event = Event.objects.get(tag=MembersTag.ACCOUNT_LOGIN)
    assert event.actor == f"user:{bob.pk}" and event.details["second_factor"] == "totp"


def test_it_returns_to_the_requested_back_office_page(client, bob):
    device = give_device(bob)
    assert client.get(SEARCH).url == f"{LOGIN}?next={SEARCH}"
    _password(client, bob, next_url=SEARCH)
    response = client.post(CODE, {"token": current_code(device)})
    assert response.url == SEARCH


def test_it_ignores_a_next_outside_the_back_office(client, bob):
    device = give_device(bob)
    _password(client, bob, next_url="https://evil.example/gestion/")
    assert client.post(CODE, {"token": current_code(device)}).url == HOME


def test_it_refuses_a_wrong_totp_code(client, bob):
    device = give_device(bob)
    _password(client, bob)
    wrong = f"{(int(current_code(device)) + 1) % 10**6:06d}"

    response = client.post(CODE, {"token": wrong})

    assert response.status_code == 200
    assert "Code incorrect ou expiré" in page_text(response)
    assert "_auth_user_id" not in client.session
    assert client.get(SEARCH).status_code == 302
    failed = Event.objects.get(tag=MembersTag.ACCOUNT_LOGIN_FAILED)
    assert failed.actor == f"user:{bob.pk}" and failed.details["step"] == "totp"


def test_a_code_cannot_be_replayed(client, bob):
    device = give_device(bob)
    _password(client, bob)
    code = current_code(device)
    client.post(CODE, {"token": code})
    client.post(reverse("backoffice:logout"))

    _password(client, bob)
    response = client.post(CODE, {"token": code})

    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_it_refuses_a_wrong_password(client, bob):
    give_device(bob)
    response = _password(client, bob, password="not the password")
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in page_text(response)
    assert client.get(CODE).url == LOGIN


def test_it_locks_the_account_after_repeated_password_failures(client, bob, settings):
    give_device(bob)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password(client, bob, password="not the password")
    assert AccessAttempt.objects.exists()

    response = _password(client, bob)  # even the right password

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(CODE).status_code == 302


def test_it_refuses_a_member_account(client, alice):
    response = client.post(LOGIN, {"username": "alice@example.org", "password": PASSWORD})
    assert response.status_code == 200
    assert "compte d'adhérent" in page_text(response)
    assert client.get(CODE).url == LOGIN


def test_the_code_step_expires(client, bob, frozen_time):
    give_device(bob)
    _password(client, bob)
    frozen_time.shift(datetime.timedelta(minutes=6))
    assert client.get(CODE).url == LOGIN


def test_staff_without_device_is_sent_to_enrolment(client, charlie):
    response = _password(client, charlie)
    assert response.url == ENROL

    page = client.get(ENROL)
    device = TOTPDevice.objects.get(user=charlie)
    assert not device.confirmed
    body = page_text(page)
    assert "otpauth://totp/" in body
    assert device.config_url.split("secret=")[1].split("&")[0] in body.replace(" ", "")
    # Password given, device not confirmed: no back-office page.
    assert client.get(SEARCH).status_code == 302
    assert client.get(HOME).status_code == 302
    assert "_auth_user_id" not in client.session


def test_enrolment_confirms_the_device_with_a_valid_code(client, charlie):
    _password(client, charlie)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=charlie)

    response = client.post(ENROL, {"token": current_code(device)})

    # The answer shows the ten recovery codes, this once, and leads on to where the login went.
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert len(response.context["codes"]) == 10 and response.context["next_url"] == HOME
    assert all(code in page_text(response) for code in response.context["codes"])
    device.refresh_from_db()
    assert device.confirmed
    event = Event.objects.get(tag=MembersTag.STAFF_DEVICE_CONFIRM)
    assert event.actor == f"user:{charlie.pk}"
    assert event.target == f"otp_totp.totpdevice:{device.pk}"
    assert client.get(SEARCH).status_code == 200


def test_enrolment_keeps_the_same_secret_until_confirmed(client, charlie):
    _password(client, charlie)
    client.get(ENROL)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=charlie).count() == 1


def test_enrolment_refuses_a_wrong_code(client, charlie):
    _password(client, charlie)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=charlie)
    wrong = f"{(int(current_code(device)) + 1) % 10**6:06d}"

    response = client.post(ENROL, {"token": wrong})

    assert response.status_code == 200 and "Code incorrect" in page_text(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert not Event.objects.filter(tag=MembersTag.STAFF_DEVICE_CONFIRM).exists()


def test_enrolment_needs_the_password_first(client, charlie):
    assert client.get(ENROL).url == LOGIN
    assert not TOTPDevice.objects.exists()


def test_staff_with_a_device_cannot_enrol_another(client, bob):
    give_device(bob)
    _password(client, bob)
    assert client.get(ENROL).url == CODE
    assert TOTPDevice.objects.filter(user=bob).count() == 1


def test_logout_is_a_post_and_ends_the_session(client, bob):
    device = give_device(bob)
    _password(client, bob)
    client.post(CODE, {"token": current_code(device)})

    assert client.get(reverse("backoffice:logout")).status_code == 405
    response = client.post(reverse("backoffice:logout"))

    assert response.url == LOGIN
    assert client.get(HOME).status_code == 302
    assert Event.objects.filter(tag=MembersTag.ACCOUNT_LOGOUT, actor=f"user:{bob.pk}").exists()


def test_login_pages_are_not_stored(client, bob):
    give_device(bob)
    assert "no-store" in client.get(LOGIN)["Cache-Control"]
    _password(client, bob)
    assert "no-store" in client.get(CODE)["Cache-Control"]


def test_an_empty_code_is_explained(client, bob):
    give_device(bob)
    _password(client, bob)
    response = client.post(CODE, {})
    assert "Saisissez le code à 6 chiffres." in page_text(response)


def test_an_empty_login_form_is_explained(client):
    response = client.post(LOGIN, {})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in page_text(response)


def test_an_absurdly_long_address_is_refused_and_counted_like_any_wrong_one(client, bob):
    """Found by the bad-input suite on PostgreSQL: axes' 255-character column refused it."""
    response = client.post(LOGIN, {"username": "A" * 100_000, "password": "A" * 100_000})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "a" * 254
