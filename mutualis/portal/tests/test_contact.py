"""Rectification of contact details: validated, normalised, audited with sealed values, and the
login address follows the e-mail."""

from __future__ import annotations

import json

import pytest
from django.core import mail

import conftest
from mutualis.audit.models import Event
from mutualis.members.models import Person, User
from mutualis.members.tags import MembersTag

pytestmark = pytest.mark.django_db

URL = "/espace/coordonnees/"


def _form(**changes) -> dict:
    data = {
        "address_line1": "12 rue des Lilas",
        "address_line2": "",
        "postal_code": "75011",
        "city": "Paris",
        "email": "alice@example.org",
        "phone_landline": "",
        "phone_mobile": "06 12 34 56 78",
    }
    data.update(changes)
    return data


def test_the_form_shows_the_current_details_with_formatted_phones(alice_client):
    body = alice_client.get(URL).content.decode()
    assert 'value="12 rue des Lilas"' in body
    assert 'value="06 12 34 56 78"' in body
    assert 'value="alice@example.org"' in body


def test_a_member_changes_address_and_phone_and_is_told_what_changed(alice_client, alice):
    response = alice_client.post(
        URL,
        _form(
            address_line1="3 place du Marché",
            postal_code="69002",
            city="Lyon",
            phone_landline="04.78.12.34.56",
        ),
        follow=True,
    )
    person = Person.objects.get(pk=alice.person.pk)
    assert (person.address_line1, person.postal_code, person.city) == (
        "3 place du Marché",
        "69002",
        "Lyon",
    )
    assert person.phone_landline == "+33478123456"
    body = response.content.decode()
    assert "Vos coordonnées ont été mises à jour" in body
    assert "adresse, code postal, commune et téléphone fixe" in body
    assert 'value="04 78 12 34 56"' in body


def test_the_audit_event_seals_old_and_new_values(alice_client, alice):
    alice_client.post(URL, _form(address_line1="3 place du Marché", email="alice.m@example.net"))
    event = Event.objects.get(tag=MembersTag.CONTACT_RECTIFY)
    assert event.subject_id == str(alice.person.pk)
    assert event.actor == f"user:{alice.account.pk}"
    assert event.details["fields"] == ["address_line1", "email"]
    text = json.dumps(event.details, ensure_ascii=False)
    for clear in (
        "12 rue des Lilas",
        "3 place du Marché",
        "alice@example.org",
        "alice.m@example.net",
        "Marché",
        "example",
    ):
        assert clear not in text


def test_changing_the_email_changes_the_login(client, alice):
    client.force_login(alice.account)
    client.post(URL, _form(email="Alice.Nouvelle@Example.net"))
    account = User.objects.get(pk=alice.account.pk)
    assert account.email == "alice.nouvelle@example.net"
    assert Person.objects.get(pk=alice.person.pk).email == "alice.nouvelle@example.net"
    # The previous address is told, without the new one.
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "alice.nouvelle" not in mail.outbox[0].body
    client.logout()
    response = client.post(
        "/espace/connexion/",
        {"username": "alice.nouvelle@example.net", "password": conftest.PASSWORD},
    )
    assert response.status_code == 302


def test_an_email_used_by_another_account_is_refused(alice_client, alice, dave, bob):
    for taken in (dave.account.email, "BOB@mutuelle.example"):
        response = alice_client.post(URL, _form(email=taken))
        assert response.status_code == 200
        assert "déjà utilisée pour un autre compte" in response.content.decode()
    assert User.objects.get(pk=alice.account.pk).email == "alice@example.org"
    assert not Event.objects.filter(tag=MembersTag.CONTACT_RECTIFY).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "7501", "Le code postal doit compter 5 chiffres"),
        ("postal_code", "00100", "Le code postal doit compter 5 chiffres"),
        ("phone_mobile", "12345", "Le numéro de téléphone doit compter 10 chiffres"),
        ("email", "pas-une-adresse", "Saisissez une adresse électronique valide"),
        ("city", "", "Ce champ est obligatoire"),
    ],
)
def test_invalid_details_are_refused_in_french(alice_client, alice, field, value, message):
    response = alice_client.post(URL, _form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Event.objects.filter(tag=MembersTag.CONTACT_RECTIFY).exists()


def test_submitting_unchanged_details_changes_nothing(alice_client):
    response = alice_client.post(URL, _form(), follow=True)
    assert "Aucune modification" in response.content.decode()
    assert not Event.objects.filter(tag=MembersTag.CONTACT_RECTIFY).exists()
