"""The member sees who received what and when: in « Mes données » and in the access copy; the
DPO sees it in the register; privacy_check stays clean."""

from __future__ import annotations

import html

import pytest

from mutualis.partners.tests.helpers import body_for, check
from mutualis.privacy import promises
from mutualis.rights import handlers, processing
from mutualis.rights.models import Kind

pytestmark = pytest.mark.django_db


def test_a_pharmacy_check_shows_in_my_data_the_access_copy_and_the_register(
    client, alice, dave, pharmacy_key
):
    assert check(client, pharmacy_key, body_for(alice.person)).status_code == 200
    client.force_login(alice.account)
    page = html.unescape(client.get("/espace/mes-donnees/").content.decode())
    assert "Qui a reçu vos données" in page
    assert "Pharmacie du Centre" in page and "Professionnels de santé" in page
    request = processing.request_from_member_space(member=alice, kind=Kind.ACCESS)
    copy = handlers.access_copy(request=request, actor=alice.account)
    assert [d["recipient"] for d in copy["disclosures"]] == ["Professionnels de santé"]
    assert "Pharmacie du Centre" in copy["disclosures"][0]["reason"]
    assert [r.breaches for r in promises.run() if r.breaches] == []
    client.force_login(dave.account)
    other = html.unescape(client.get("/espace/mes-donnees/").content.decode())
    assert "Pharmacie du Centre" not in other
