"""Sessions and login forms: the session key is rotated at every login (member space, staff
password step, staff code step) and at a re-authentication; a password reset answers the same
whether the address exists or not. Lockouts on the member, staff and code forms are tested
with those forms (portal/tests/test_login.py, backoffice/tests/test_login.py and
test_staff_pages.py, test_reauthentication.py)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from conftest import PASSWORD
from mutualis.backoffice.testing import current_code, give_device, login_verified

pytestmark = pytest.mark.django_db


def _key(client) -> str:
    client.session.save()
    return client.session.session_key


def test_the_member_login_rotates_the_session_key(client, alice):
    client.get(reverse("portal:login"))
    before = _key(client)
    client.post(reverse("portal:login"), {"username": alice.account.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(alice.account.pk)
    assert client.session.session_key != before


def test_both_staff_login_steps_rotate_the_session_key(client, bob):
    device = give_device(bob)
    before = _key(client)
    client.post(reverse("backoffice:login"), {"username": bob.email, "password": PASSWORD})
    after_password = client.session.session_key
    client.post(reverse("backoffice:login_code"), {"token": current_code(device)})
    assert len({before, after_password, client.session.session_key}) == 3
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_a_re_authentication_rotates_the_session_key(client, bob):
    device = login_verified(client, bob)
    before = _key(client)
    client.post(
        reverse("backoffice:reauthenticate"),
        {"reauth-password": PASSWORD, "reauth-token": current_code(device)},
    )
    assert client.session.session_key != before


def test_a_password_reset_answers_the_same_for_a_known_and_an_unknown_address(client, alice):
    url = reverse("portal:password_reset")
    known = client.post(url, {"email": alice.account.email})
    unknown = client.post(url, {"email": "personne@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    page = client.get(known["Location"]).content.decode()
    assert alice.account.email not in page and "personne@example.org" not in page
    assert [m.to for m in mail.outbox] == [[alice.account.email]]
