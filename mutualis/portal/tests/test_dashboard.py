"""The dashboard and the contract page show the member's cover, premium and mandate."""

from __future__ import annotations

import pytest

from mutualis.billing.models import Mandate

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_contract_beneficiaries_premium_and_masked_mandate(alice_client, alice):
    contract = alice.contracts.get()
    mandate = Mandate.objects.get(member=alice)
    body = alice_client.get("/espace/").content.decode()
    assert f"contrat n° {contract.number}" in body
    assert contract.offer.name in body
    assert "Léo Martin (enfant)" in body
    premium = f"{contract.monthly_premium():.2f}".replace(".", ",")
    assert f"{premium} €" in body
    assert mandate.reference in body
    assert mandate.masked_iban in body
    assert mandate.iban not in body


def test_the_contract_page_details_the_premium_per_person(alice_client, alice):
    contract = alice.contracts.get()
    body = alice_client.get(f"/espace/contrats/{contract.pk}/").content.decode()
    assert f"Contrat n° {contract.number}" in body
    assert "Alice Martin" in body and "Léo Martin" in body
    assert f"version {contract.cgu_version}" in body
    total = f"{contract.monthly_premium():.2f}".replace(".", ",")
    assert f"{total} €" in body


def test_an_ended_contract_reads_as_ended(alice_client, alice):
    import datetime

    contract = alice.contracts.get()
    contract.start_date = datetime.date(2020, 1, 1)
    contract.end_date = datetime.date(2021, 12, 31)
    contract.save()
    body = alice_client.get("/espace/").content.decode()
    assert "Terminé" in body and "31 décembre 2021" in body


def test_the_dashboard_works_after_a_beneficiary_was_erased(alice_client, alice):
    from mutualis.vault import services as vault

    vault.shred(alice.beneficiaries.get().person)
    assert alice_client.get("/espace/").status_code == 200
    contract = alice.contracts.get()
    body = alice_client.get(f"/espace/contrats/{contract.pk}/").content.decode()
    assert "Non calculable" in body
