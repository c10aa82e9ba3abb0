"""A member only ever reaches their own data; NIR and IBAN never appear in clear."""

from __future__ import annotations

import logging
import uuid

import pytest

import conftest
from mutualis.billing.models import Mandate
from mutualis.members.models import Person, User
from mutualis.portal.tests.helpers import PUBLIC_PAGES, member_pages, secrets_of

pytestmark = pytest.mark.django_db


def test_alice_cannot_open_dave_s_contract(alice_client, dave):
    response = alice_client.get(f"/espace/contrats/{dave.contracts.get().pk}/")
    assert response.status_code == 404
    assert dave.contracts.get().number not in response.content.decode()


def test_an_unknown_contract_id_answers_404(alice_client):
    assert alice_client.get(f"/espace/contrats/{uuid.uuid4()}/").status_code == 404
    assert alice_client.get("/espace/contrats/pas-un-uuid/").status_code == 404


def test_no_page_of_alice_shows_anything_of_dave(alice_client, alice, dave):
    for url in member_pages(alice):
        body = alice_client.get(url).content.decode()
        assert "Dave" not in body and "Durand" not in body, url
        assert dave.number not in body and dave.contracts.get().number not in body, url
        for mandate in Mandate.objects.filter(member=dave):
            assert mandate.reference not in body, url


def _ids_of(member) -> dict[str, str]:
    """Every id of another member a tampering client could slip into a form."""
    contract = member.contracts.get()
    return {
        "id": str(member.person.pk),
        "pk": str(member.pk),
        "person": str(member.person.pk),
        "person_id": str(member.person.pk),
        "member": str(member.pk),
        "member_id": str(member.pk),
        "account": str(member.account.pk),
        "user": str(member.account.pk),
        "contract": str(contract.pk),
        "mandate": str(Mandate.objects.get(member=member).pk),
    }


def test_posting_dave_s_ids_to_the_contact_form_only_ever_changes_alice(alice_client, alice, dave):
    before = Person.objects.get(pk=dave.person.pk)
    data = {
        "address_line1": "1 rue Piratée",
        "address_line2": "",
        "postal_code": "13001",
        "city": "Marseille",
        "email": "alice@example.org",
        "phone_landline": "",
        "phone_mobile": "",
        **_ids_of(dave),
    }
    assert alice_client.post("/espace/coordonnees/", data).status_code == 302
    after = Person.objects.get(pk=dave.person.pk)
    assert (after.address_line1, after.city, after.email) == (
        before.address_line1,
        before.city,
        before.email,
    )
    assert Person.objects.get(pk=alice.person.pk).city == "Marseille"


def test_posting_dave_s_ids_to_the_bank_form_only_ever_changes_alice(alice_client, alice, dave):
    from mutualis.members.testing import make_french_iban

    fields = ("pk", "ended_at", "amendment_pending", "debtor_name")
    dave_mandates = list(Mandate.objects.filter(member=dave).values(*fields))
    new_iban = make_french_iban()
    data = {
        "iban": new_iban,
        "bic": "",
        "debtor_name": "Dave Durand",
        "signed_place": "Paris",
        "accept_mandate": "on",
        **_ids_of(dave),
    }
    assert alice_client.post("/espace/compte-bancaire/", data).status_code == 302
    assert list(Mandate.objects.filter(member=dave).values(*fields)) == dave_mandates
    assert Mandate.objects.filter(member=alice).get().iban == new_iban  # hers, amended


def test_the_login_form_ignores_an_id_in_the_post(client, alice, dave):
    client.post(
        "/espace/connexion/",
        {"username": alice.account.email, "password": conftest.PASSWORD, **_ids_of(dave)},
    )
    assert client.session["_auth_user_id"] == str(alice.account.pk)
    assert "Alice" in client.get("/espace/").content.decode()


def test_changing_email_to_dave_s_leaves_both_accounts_alone(alice_client, alice, dave):
    alice_client.post(
        "/espace/coordonnees/",
        {
            "address_line1": "x",
            "postal_code": "75001",
            "city": "Paris",
            "email": dave.account.email,
        },
    )
    assert User.objects.get(pk=alice.account.pk).email == "alice@example.org"
    assert User.objects.get(pk=dave.account.pk).email == "dave@example.org"


def test_no_nir_or_iban_in_clear_in_any_page_or_log(client, alice, dave, caplog):
    """Alice's and dave's NIR and IBAN, through a whole session including a bank change."""
    from mutualis.members.testing import make_french_iban

    caplog.set_level(logging.DEBUG)
    new_iban = make_french_iban()
    secrets = secrets_of(alice) + secrets_of(dave) + [new_iban]
    bodies = []
    bodies.append(
        client.post(
            "/espace/connexion/", {"username": alice.account.email, "password": conftest.PASSWORD}
        )
    )
    for url in [*member_pages(alice), f"/espace/contrats/{dave.contracts.get().pk}/"]:
        bodies.append(client.get(url))
    bodies.append(
        client.post(
            "/espace/compte-bancaire/",
            {
                "iban": new_iban,
                "debtor_name": "Alice Martin",
                "signed_place": "Paris",
                "accept_mandate": "on",
            },
            follow=True,
        )
    )
    for url in [*member_pages(alice), *PUBLIC_PAGES]:
        bodies.append(client.get(url))
    bodies.append(client.post("/espace/deconnexion/", follow=True))
    for response in bodies:
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body
    for secret in secrets:
        assert secret not in caplog.text
