"""Re-authentication (password and code again, a few minutes) before reveals, exports and staff
administration; the session key is rotated; failures count towards the lockout."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from conftest import PASSWORD
from mutualis.audit.security import SecurityEvent
from mutualis.backoffice.members.reveal import format_nir
from mutualis.backoffice.testing import current_code, login_verified, page_text
from mutualis.staff.tags import StaffTag

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _nir_url(member) -> str:
    return reverse("backoffice:reveal_nir", args=[member.pk, member.person_id])


def test_a_reveal_asks_for_password_and_code_then_reveals_without_retyping_the_reason(
    client, gina, alice
):
    device = login_verified(client, gina)
    challenge = client.post(_nir_url(alice), {"reason": "Demande de la caisse"})
    text = page_text(challenge)
    assert challenge.status_code == 200 and "Confirmez votre identité" in text
    assert format_nir(alice.person.nir) not in text
    assert 'name="reason" value="Demande de la caisse"' in text  # carried, not retyped
    before = client.session.session_key
    revealed = client.post(
        _nir_url(alice),
        {
            "reason": "Demande de la caisse",
            "reauth-password": PASSWORD,
            "reauth-token": current_code(device),
        },
    )
    assert format_nir(alice.person.nir) in page_text(revealed)
    assert client.session.session_key != before  # rotated at re-authentication
    assert SecurityEvent.objects.filter(kind=StaffTag.REAUTHENTICATE).count() == 1


def test_a_wrong_password_or_code_reveals_nothing_and_is_logged(client, gina, alice):
    device = login_verified(client, gina)
    for password, code in [("pas le bon", current_code(device)), (PASSWORD, "000000")]:
        response = client.post(
            _nir_url(alice),
            {"reason": "Demande", "reauth-password": password, "reauth-token": code},
        )
        assert "Mot de passe ou code incorrect" in page_text(response)
        assert format_nir(alice.person.nir) not in page_text(response)
    assert SecurityEvent.objects.filter(kind=StaffTag.REAUTHENTICATION_FAILED).count() == 2


def test_repeated_re_authentication_failures_lock_the_pair(client, gina, alice, settings):
    login_verified(client, gina)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(
            _nir_url(alice), {"reason": "Demande", "reauth-password": "x", "reauth-token": "123456"}
        )
    locked = client.post(
        _nir_url(alice), {"reason": "Demande", "reauth-password": "x", "reauth-token": "123456"}
    )
    assert locked.status_code == 429


def test_a_re_authentication_lasts_a_few_minutes(client, gina, alice, frozen_time, settings):
    device = login_verified(client, gina)
    client.post(
        reverse("backoffice:reauthenticate"),
        {"reauth-password": PASSWORD, "reauth-token": current_code(device)},
    )
    frozen_time.shift(datetime.timedelta(minutes=settings.MUTUALIS_REAUTH_MINUTES))
    assert format_nir(alice.person.nir) in page_text(
        client.post(_nir_url(alice), {"reason": "Demande de la caisse"})
    )
    frozen_time.shift(datetime.timedelta(seconds=1))
    again = client.post(_nir_url(alice), {"reason": "Demande de la caisse"})
    assert "Confirmez votre identité" in page_text(again)


def test_a_page_that_needs_it_goes_through_the_re_authentication_page_and_back(client, ada):
    device = login_verified(client, ada)
    invite = reverse("backoffice:staff_invite")
    response = client.get(invite)
    assert response.status_code == 302
    assert response.url == f"{reverse('backoffice:reauthenticate')}?next={invite}"
    back = client.post(
        response.url, {"reauth-password": PASSWORD, "reauth-token": current_code(device)}
    )
    assert back.status_code == 302 and back.url == invite
    assert client.get(invite).status_code == 200


def test_the_re_authentication_page_never_sends_elsewhere(client, ada):
    device = login_verified(client, ada)
    response = client.post(
        f"{reverse('backoffice:reauthenticate')}?next=https://example.org/",
        {"reauth-password": PASSWORD, "reauth-token": current_code(device)},
    )
    assert response.url == reverse("backoffice:home")


def test_exports_need_a_recent_re_authentication(client, bob):
    login_verified(client, bob)
    response = client.get(reverse("backoffice:processing_register_csv"))
    assert response.status_code == 302 and reverse("backoffice:reauthenticate") in response.url
