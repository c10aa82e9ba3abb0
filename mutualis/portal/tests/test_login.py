"""Logging in and out, lockout after repeated failures, idle expiry, and the login history."""

from __future__ import annotations

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

import conftest
from mutualis.audit.models import Event
from mutualis.members.tags import MembersTag

pytestmark = pytest.mark.django_db

LOGIN = "/espace/connexion/"


def _login(client, email, password, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def _event_text(event: Event) -> str:
    return json.dumps(
        [event.actor, event.subject_id, event.target, event.details], ensure_ascii=False
    )


def test_the_login_page_asks_for_an_email_address_in_french(client):
    body = client.get(LOGIN).content.decode()
    assert '<label for="id_username">Adresse électronique' in body
    assert 'type="email" name="username"' in body
    assert '<label for="id_password">Mot de passe' in body
    assert "Mot de passe oublié" in body


def test_a_member_logs_in_with_email_and_password(client, alice):
    response = _login(client, "Alice@Example.org", conftest.PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/espace/"
    assert client.get("/espace/").status_code == 200
    event = Event.objects.get(tag=MembersTag.ACCOUNT_LOGIN)
    assert event.actor == f"user:{alice.account.pk}"
    assert event.subject_id == str(alice.person.pk)


def test_login_follows_a_safe_next_but_not_another_site(client, alice):
    response = client.post(
        f"{LOGIN}?next=/espace/mes-donnees/",
        {"username": alice.account.email, "password": conftest.PASSWORD},
    )
    assert response["Location"] == "/espace/mes-donnees/"
    client.logout()
    response = client.post(
        f"{LOGIN}?next=https://ailleurs.example/",
        {"username": alice.account.email, "password": conftest.PASSWORD},
    )
    assert response["Location"] == "/espace/"


def test_a_wrong_password_is_refused_and_audited_without_the_address(client, alice):
    response = _login(client, alice.account.email, "pas le bon")
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in response.content.decode()
    assert client.get("/espace/").status_code == 302
    event = Event.objects.get(tag=MembersTag.ACCOUNT_LOGIN_FAILED)
    assert event.actor == "anonymous"
    assert event.target == f"members.user:{alice.account.pk}"
    assert event.details == {"reason": "invalid_credentials"}
    assert alice.account.email not in _event_text(event)


def test_an_unknown_address_is_refused_with_the_same_message_and_no_subject(client, alice):
    response = _login(client, "inconnu@example.org", "peu importe")
    assert "Adresse électronique ou mot de passe incorrect" in response.content.decode()
    event = Event.objects.get(tag=MembersTag.ACCOUNT_LOGIN_FAILED)
    assert (event.subject_id, event.target) == ("", "")
    assert "inconnu" not in _event_text(event)


def test_a_staff_account_cannot_enter_the_member_space_and_learns_nothing(client, bob, alice):
    wrong = _login(client, alice.account.email, "pas le bon").content.decode()
    response = _login(client, bob.email, conftest.PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    # The same message as a wrong password: a correct staff password is not confirmed.
    assert "Adresse électronique ou mot de passe incorrect" in response.content.decode()
    assert "Adresse électronique ou mot de passe incorrect" in wrong
    event = Event.objects.filter(tag=MembersTag.ACCOUNT_LOGIN_FAILED).latest("id")
    assert event.details == {"reason": "not_member"}


def test_an_inactive_member_cannot_log_in(client, alice):
    alice.account.is_active = False
    alice.account.save()
    response = _login(client, alice.account.email, conftest.PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_from_that_address_with_a_french_page(client, alice):
    for _ in range(4):
        assert _login(client, alice.account.email, "pas le bon").status_code == 200
    response = _login(client, alice.account.email, "pas le bon")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Connexion temporairement suspendue" in body
    assert "15 minutes" in body
    assert alice.account.email not in body
    assert "no-store" in response["Cache-Control"]
    # Even the right password is refused now, from that address.
    response = _login(client, alice.account.email, conftest.PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    reasons = [
        e.details["reason"] for e in Event.objects.filter(tag="members:account:login_failed")
    ]
    assert reasons[-1] == "locked_out"


def test_the_lock_is_on_the_pair_so_the_owner_still_logs_in_from_elsewhere(client, alice):
    for _ in range(5):
        _login(client, alice.account.email, "pas le bon", REMOTE_ADDR="203.0.113.7")
    assert (
        _login(
            client, alice.account.email, conftest.PASSWORD, REMOTE_ADDR="203.0.113.7"
        ).status_code
        == 429
    )
    response = _login(client, alice.account.email, conftest.PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.account.pk)


def test_five_failures_behind_a_shared_address_do_not_lock_the_others_behind_it(
    client, alice, dave
):
    """A shared office or operator address: one person's typos lock only that person there."""
    for _ in range(5):
        _login(client, alice.account.email, "pas le bon", REMOTE_ADDR="192.0.2.1")
    response = _login(client, dave.account.email, conftest.PASSWORD, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 302


def test_an_address_failing_on_many_accounts_is_locked_at_the_higher_limit(client, alice, settings):
    """Password spraying: few tries per account, many accounts, one address."""
    settings.MUTUALIS_LOCKOUT_ADDRESS_LIMIT = 12
    for index in range(11):
        response = _login(
            client, f"inconnu{index}@example.org", "pas le bon", REMOTE_ADDR="192.0.2.5"
        )
        assert response.status_code == 200
    response = _login(client, "inconnu99@example.org", "pas le bon", REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 429
    # Every account is now refused from that address, the right password included...
    assert (
        _login(client, alice.account.email, conftest.PASSWORD, REMOTE_ADDR="192.0.2.5").status_code
        == 429
    )
    # ...and from any other address nothing has changed.
    assert (
        _login(client, alice.account.email, conftest.PASSWORD, REMOTE_ADDR="192.0.2.6").status_code
        == 302
    )


def test_the_lock_counts_an_address_whatever_its_case(client, alice):
    for index in range(5):
        email = alice.account.email.upper() if index % 2 else alice.account.email
        _login(client, email, "pas le bon")
    response = _login(client, alice.account.email, conftest.PASSWORD)
    assert response.status_code == 429


def test_the_lock_lifts_after_the_cool_off(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            _login(client, alice.account.email, "pas le bon")
        assert _login(client, alice.account.email, conftest.PASSWORD).status_code == 429
        traveller.shift(datetime.timedelta(minutes=16))
        response = _login(client, alice.account.email, conftest.PASSWORD)
    assert response.status_code == 302


def test_logout_ends_the_session_and_is_audited(alice_client, alice):
    response = alice_client.post("/espace/deconnexion/")
    assert response.status_code == 302 and response["Location"] == "/espace/connexion/"
    assert alice_client.get("/espace/").status_code == 302
    assert Event.objects.filter(
        tag=MembersTag.ACCOUNT_LOGOUT, actor=f"user:{alice.account.pk}"
    ).exists()
    body = alice_client.get("/espace/connexion/").content.decode()
    assert "Vous êtes déconnecté" in body


def test_the_session_expires_after_30_minutes_without_activity(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        _login(client, alice.account.email, conftest.PASSWORD)
        traveller.shift(datetime.timedelta(minutes=29))
        assert client.get("/espace/").status_code == 200  # activity restarts the clock
        traveller.shift(datetime.timedelta(minutes=29))
        assert client.get("/espace/").status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        response = client.get("/espace/mes-donnees/")
    assert response.status_code == 302
    assert response["Location"].startswith("/espace/connexion/")


def test_an_absurdly_long_address_is_refused_like_any_wrong_one(client, alice):
    """Found by the bad-input suite: 100,000 characters made SQLite's LIKE fail (a 500)."""
    response = _login(client, "A" * 100_000, "A" * 100_000)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
