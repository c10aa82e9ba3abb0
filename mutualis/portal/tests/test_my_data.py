"""« Mes données » is driven by the privacy declaration, masks what is sensitive and shows
erased data as such."""

from __future__ import annotations

import dataclasses

import pytest

from mutualis.privacy import catalogue, registry
from mutualis.vault.blind_index import BlindIndexField
from mutualis.vault.erased import ERASED_TEXT

pytestmark = pytest.mark.django_db

URL = "/espace/mes-donnees/"
SHOWN_MODELS = [
    "members.Person",
    "members.Member",
    "members.Beneficiary",
    "contracts.Contract",
    "billing.Mandate",
    "members.User",
]


def _model(label):
    from django.apps import apps

    return apps.get_model(label)


def test_every_declared_field_appears_with_its_french_label(alice_client):
    from mutualis.portal.inventory import has_french_label, label_of

    body = alice_client.get(URL).content.decode()
    from django.utils.html import escape

    for label in SHOWN_MODELS:
        model = _model(label)
        for name in registry.get(label).fields:
            field = model._meta.get_field(name)
            if isinstance(field, BlindIndexField):
                continue
            assert has_french_label(model._meta.label_lower, field), f"{label}.{name}"
            assert escape(label_of(model._meta.label_lower, field)) in body, f"{label}.{name}"


def test_data_are_grouped_by_the_declared_categories(alice_client):
    body = alice_client.get(URL).content.decode()
    for heading in (
        "Identité",
        "Coordonnées",
        "Données administratives",
        "Moyens de paiement",
        "Contrat",
        "Compte de l&#x27;espace adhérent",
    ):
        assert f">{heading}</h2>" in body
    assert "Léo Martin (enfant)" in body  # the beneficiary's own data
    assert "CPAM de Paris" in body and "751" in body  # scheme in clear


def test_sensitive_values_are_masked(alice_client, alice):
    body = alice_client.get(URL).content.decode()
    person = alice.person
    assert person.nir not in body
    assert person.masked_nir in body
    assert person.birth_date.strftime("%d/%m/%Y") not in body
    assert "12 avril 1985" not in body
    assert "••/••/1985" in body
    assert alice.account.password not in body  # the hash is never shown
    assert "Défini (conservé sous une forme chiffrée irréversible)" in body


def test_a_field_newly_declared_encrypted_or_sensitive_is_masked(alice_client, alice, monkeypatch):
    """Masking follows the declaration, not a list of field names."""
    declaration = registry.get("members.Person")
    fields = dict(declaration.fields)
    fields["address_line1"] = dataclasses.replace(fields["address_line1"], encrypted=True)
    fields["phone_mobile"] = dataclasses.replace(fields["phone_mobile"], category=catalogue.BANK)
    monkeypatch.setitem(
        registry._declarations,
        "members.person",
        dataclasses.replace(declaration, fields=fields),
    )
    body = alice_client.get(URL).content.decode()
    assert "12 rue des Lilas" not in body
    assert "••as" in body
    assert "06 12 34 56 78" not in body
    assert "••78" in body


def test_erased_data_show_the_marker(alice_client, alice):
    from mutualis.vault import services as vault

    vault.shred(alice.beneficiaries.get().person)
    vault.shred(alice.person)
    response = alice_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count(ERASED_TEXT) >= 4  # her NIR and birth date, the child's, her IBAN
    assert 'class="erased"' in body


def test_the_page_lists_every_mandate_old_and_new(alice_client, alice):
    from django.utils import timezone

    from mutualis.billing.models import Mandate
    from mutualis.billing.services import change_bank_account
    from mutualis.members.testing import make_french_iban

    Mandate.objects.filter(member=alice).update(ended_at=timezone.now())  # revoked
    change_bank_account(
        member=alice, iban=make_french_iban(), debtor_name="Alice Martin", signed_place="Lyon"
    )
    body = alice_client.get(URL).content.decode()
    assert "(en cours)" in body and "(révoqué)" in body
