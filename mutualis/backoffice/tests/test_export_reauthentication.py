"""Exports ask for a recent re-authentication (password and code again): the disclosure
register's CSV, a requisition's archive (made and downloaded), the printer's files of a postal
campaign, and a new or rotated API key (a secret shown once). A page reached again after the
re-authentication keeps its filters, never a NIR."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import resolve, reverse

from conftest import PASSWORD
from mutualis.backoffice.testing import current_code, login_verified, page_text
from mutualis.recipients.models import Credential
from mutualis.recipients.models_requisitions import RequisitionStatus
from mutualis.tests_security import world as suite
from mutualis.tests_security.world import World, attribute

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)

EXPORTS = [
    "disclosure_register_csv",
    "requisition_export",
    "requisition_download",
    "campaign_printer_csv",
    "campaign_printer_pdf",
    "key_create",
    "key_rotate",
]


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(alice, dave, bob, charlie):
    return World(alice, dave, bob, charlie)


def _reauth(device) -> dict:
    return {"reauth-password": PASSWORD, "reauth-token": current_code(device)}


@pytest.mark.parametrize("name", EXPORTS)
def test_each_export_is_marked_as_needing_a_recent_re_authentication(name):
    path = reverse(f"backoffice:{name}", kwargs=_any_kwargs(name))
    assert attribute(resolve(path).func, "recent_auth") is True


def _any_kwargs(name: str) -> dict:
    uuid = "00000000-0000-0000-0000-000000000001"
    return {
        "disclosure_register_csv": {},
        "requisition_export": {"requisition_id": 1},
        "requisition_download": {"requisition_id": 1},
        "campaign_printer_csv": {"campaign_id": uuid},
        "campaign_printer_pdf": {"campaign_id": uuid},
        "key_create": {"organisation_id": 1},
        "key_rotate": {"organisation_id": 1, "credential_id": 1},
    }[name]


def test_the_disclosure_register_export_keeps_its_filters_through_the_re_authentication(
    client, bob, world
):
    suite.requisition(world, "exported")  # a disclosure to an authority, about alice
    device = login_verified(client, bob)
    export = reverse("backoffice:disclosure_register_csv")
    asked = client.get(export, {"destinataire": "authorities", "du": "2026-03-01"})
    assert asked.status_code == 302
    login, query = asked["Location"].split("?", 1)
    assert login == reverse("backoffice:reauthenticate")
    target = parse_qs(query)["next"][0]
    assert urlsplit(target).path == export
    assert parse_qs(urlsplit(target).query) == {
        "destinataire": ["authorities"],
        "du": ["2026-03-01"],
    }
    done = client.post(asked["Location"], _reauth(device))
    assert done.status_code == 302 and done["Location"] == target
    csv = client.get(done["Location"])
    assert csv["Content-Disposition"].startswith("attachment")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "PV 2026/3" in lines[1]


def test_a_nir_in_an_exports_query_is_not_carried_to_the_re_authentication(client, bob, alice):
    login_verified(client, bob)
    asked = client.get(
        reverse("backoffice:disclosure_register_csv"), {"personne": alice.person.nir}
    )
    export = reverse("backoffice:disclosure_register_csv")
    assert asked["Location"] == f"{reverse('backoffice:reauthenticate')}?next={export}"


def test_a_requisitions_archive_is_made_and_downloaded_only_after_a_re_authentication(
    client, bob, world
):
    requisition = suite.requisition(world, "approved")
    device = login_verified(client, bob)
    url = reverse("backoffice:requisition_export", args=[requisition.pk])
    challenged = client.post(url)
    assert "Confirmez votre identité" in page_text(challenged)
    requisition.refresh_from_db()
    assert requisition.status == RequisitionStatus.APPROVED and not requisition.archive
    exported = client.post(url, _reauth(device))
    assert "Clé de l'archive" in page_text(exported)
    requisition.refresh_from_db()
    assert requisition.status == RequisitionStatus.EXPORTED

    fresh = Client()  # a session that did not re-authenticate
    login_verified(fresh, bob)
    download = reverse("backoffice:requisition_download", args=[requisition.pk])
    refused = fresh.get(download)
    assert refused.status_code == 302 and not refused.get("Content-Disposition")
    assert refused["Location"] == f"{reverse('backoffice:reauthenticate')}?next={download}"
    assert client.get(download).content == bytes(requisition.archive)


def test_the_printers_files_ask_for_a_re_authentication(client, world):
    campaign = suite.campaign(world, "post_handed")
    communication = world.staff("communication")
    login_verified(client, communication)
    for name in ("campaign_printer_csv", "campaign_printer_pdf"):
        response = client.get(reverse(f"backoffice:{name}", args=[campaign.pk]))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("backoffice:reauthenticate")), name
        assert not response.get("Content-Disposition")


def test_an_api_key_is_issued_or_rotated_only_after_a_re_authentication(client, world):
    pharmacy = suite.pharmacy(world)
    old = suite.credential(world, "à renouveler")
    gestion = world.staff("gestion")
    device = login_verified(client, gestion)
    before = Credential.objects.count()
    create = reverse("backoffice:key_create", args=[pharmacy.pk])
    asked = client.post(create, {"label": "logiciel", "scopes": ["rights:check"]})
    text = page_text(asked)
    assert "Confirmez votre identité" in text and "mtl_" not in text
    assert Credential.objects.count() == before
    issued = client.post(
        create, {"label": "logiciel", "scopes": ["rights:check"], **_reauth(device)}
    )
    assert "mtl_" in page_text(issued) and Credential.objects.count() == before + 1

    fresh = Client()
    login_verified(fresh, gestion)
    rotate = reverse("backoffice:key_rotate", args=[pharmacy.pk, old.pk])
    asked = fresh.post(rotate, {"overlap_days": "7"})
    assert "Confirmez votre identité" in page_text(asked)
    assert not Credential.objects.filter(replaces=old).exists()
