"""Activation link (first password) and password reset by e-mail: single use, expiring,
never telling whether an address is known."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.contracts.services import send_activation_email
from mutualis.members.tags import MembersTag
from mutualis.portal.links import activation_link
from mutualis.portal.tests.helpers import new_member, path_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "une phrase de passe assez longue"


@pytest.fixture
def eve(db):
    """Subscribed, activation pending: no password yet."""
    return new_member("Eve", "eve@example.org", 5)


def _choose(client, link: str, password: str = NEW_PASSWORD):
    """Follow a link, then post the password form it leads to."""
    response = client.get(path_of(link))
    assert response.status_code == 302, response.content.decode()
    form_url = response["Location"]
    assert "nouveau-mot-de-passe" in form_url  # the token left the address bar
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_the_activation_link_sets_the_password_and_logs_the_member_in(client, eve):
    assert not eve.account.has_usable_password()
    response = _choose(client, activation_link(eve.account))
    assert response.status_code == 302 and response["Location"] == "/espace/"
    eve.account.refresh_from_db()
    assert eve.account.check_password(NEW_PASSWORD)
    page = client.get("/espace/").content.decode()
    assert "votre espace adhérent est activé" in page
    event = Event.objects.get(tag=MembersTag.ACCOUNT_ACTIVATE)
    assert event.subject_id == str(eve.person.pk)
    assert event.target == f"members.user:{eve.account.pk}"


def test_the_activation_e_mail_link_leads_to_this_page(client, eve):
    send_activation_email(eve.account, link=activation_link(eve.account))
    link = re.search(r"http\S+/espace/activer/\S+/", mail.outbox[-1].body).group()
    response = client.get(path_of(link))
    assert response.status_code == 302
    assert "Choisissez le mot de passe" in client.get(response["Location"]).content.decode()


def test_the_activation_link_works_only_once(client, eve):
    link = activation_link(eve.account)
    _choose(client, link)
    client.logout()
    response = client.get(path_of(link))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ce lien n'est plus valable" in body
    assert 'href="/espace/mot-de-passe/"' in body  # a way to get a new link
    assert "new_password1" not in body


def test_an_expired_activation_link_is_refused(client, eve, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        link = activation_link(eve.account)
        traveller.shift(datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
        response = client.get(path_of(link))
    assert response.status_code == 200
    assert "Ce lien n'est plus valable" in response.content.decode()
    eve.account.refresh_from_db()
    assert not eve.account.has_usable_password()


def test_a_link_still_valid_just_before_expiry(client, eve, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        link = activation_link(eve.account)
        traveller.shift(datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60))
        response = _choose(client, link)
    assert response["Location"] == "/espace/"


def test_a_tampered_link_is_refused(client, eve, dave):
    link = activation_link(eve.account)
    uid, token = path_of(link).strip("/").split("/")[-2:]
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    other = urlsafe_base64_encode(force_bytes(dave.account.pk))
    for path in (f"/espace/activer/{other}/{token}/", f"/espace/activer/{uid}/{token}x/"):
        assert "Ce lien n'est plus valable" in client.get(path).content.decode()


def test_password_validators_apply_with_french_messages(client, eve):
    response = _choose(client, activation_link(eve.account), password="court")
    assert response.status_code == 200
    body = response.content.decode()
    assert "trop court" in body
    assert 'aria-invalid="true"' in body
    eve.account.refresh_from_db()
    assert not eve.account.has_usable_password()


def test_a_staff_account_cannot_be_activated_through_the_member_space(client, charlie):
    assert (
        "Ce lien n'est plus valable"
        in client.get(path_of(activation_link(charlie))).content.decode()
    )


def test_password_reset_sends_a_french_e_mail_with_a_working_link(client, alice, settings):
    response = client.post("/espace/mot-de-passe/", {"email": "ALICE@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/espace/mot-de-passe/envoye/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.account.email]
    assert "choisissez votre mot de passe" in message.subject
    assert "Bonjour" in message.body and "expire dans 48 heures" in message.body
    link = re.search(r"\S+/espace/mot-de-passe/\S+/\S+/", message.body).group()
    assert link.startswith(settings.MUTUALIS_SITE_URL)

    response = _choose(client, link)
    assert response["Location"] == "/espace/mot-de-passe/termine/"
    alice.account.refresh_from_db()
    assert alice.account.check_password(NEW_PASSWORD)
    assert Event.objects.filter(tag=MembersTag.ACCOUNT_PASSWORD_RESET).count() == 1
    assert "_auth_user_id" not in client.session  # a reset does not log in by itself
    # And the link is spent.
    assert "Ce lien n'est plus valable" in client.get(path_of(link)).content.decode()


def test_password_reset_does_not_reveal_whether_an_address_exists(client, alice, bob):
    known = client.post("/espace/mot-de-passe/", {"email": alice.account.email})
    unknown = client.post("/espace/mot-de-passe/", {"email": "personne@example.org"})
    staff = client.post("/espace/mot-de-passe/", {"email": bob.email})
    assert known.status_code == unknown.status_code == staff.status_code == 302
    assert known["Location"] == unknown["Location"] == staff["Location"]
    assert [m.to for m in mail.outbox] == [[alice.account.email]]
    done = client.get("/espace/mot-de-passe/envoye/").content.decode()
    assert "Si l'adresse indiquée correspond à un compte" in done


def test_a_member_whose_activation_expired_gets_a_new_link_by_the_reset_form(client, eve):
    client.post("/espace/mot-de-passe/", {"email": eve.account.email})
    assert len(mail.outbox) == 1
    link = re.search(r"\S+/espace/mot-de-passe/\S+/\S+/", mail.outbox[0].body).group()
    _choose(client, link)
    eve.account.refresh_from_db()
    assert eve.account.has_usable_password()
    # The first password is an activation, whichever link set it.
    assert Event.objects.filter(tag=MembersTag.ACCOUNT_ACTIVATE).count() == 1


def test_the_reset_link_uses_the_configured_site_not_the_host_header(client, alice, settings):
    settings.ALLOWED_HOSTS = ["*"]
    client.post("/espace/mot-de-passe/", {"email": alice.account.email}, HTTP_HOST="evil.example")
    assert "evil.example" not in mail.outbox[0].body
