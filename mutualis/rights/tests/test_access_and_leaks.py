"""Who may open the rights pages, and alice never reaches dave's requests (the app's leak test)."""

from __future__ import annotations

import uuid

import pytest

from mutualis.rights import processing
from mutualis.rights.models import Kind, RightsRequest

pytestmark = pytest.mark.django_db

PAGES = [
    "/espace/droits/",
    "/espace/droits/acces/",
    "/espace/droits/portabilite/",
    "/espace/droits/rectification/",
    "/espace/droits/effacement/",
    "/espace/droits/opposition/",
    "/espace/droits/opposition-prospection/",
    "/espace/droits/retrait-consentement/",
    "/espace/droits/limitation/",
    "/espace/droits/directives/",
]


def _dave_s_request(dave) -> RightsRequest:
    return processing.request_from_member_space(member=dave, kind=Kind.ACCESS)


@pytest.mark.parametrize("url", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/espace/connexion/?next={url}"


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("staff", ["bob", "charlie"])
def test_staff_accounts_are_refused_the_member_pages(client, url, staff, request):
    client.force_login(request.getfixturevalue(staff))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_a_member_opens_every_rights_page(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 200
    assert "CNIL" in response.content.decode()
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_the_nav_links_to_the_rights_page(alice_client):
    body = alice_client.get("/espace/").content.decode()
    assert 'href="/espace/droits/"' in body and "Mes droits" in body


def test_alice_cannot_open_dave_s_request_nor_its_copy(alice_client, dave):
    request = _dave_s_request(dave)
    assert alice_client.get(f"/espace/droits/demandes/{request.pk}/").status_code == 404
    assert alice_client.get(f"/espace/droits/demandes/{request.pk}/copie/").status_code == 404
    assert alice_client.get(f"/espace/droits/demandes/{uuid.uuid4()}/").status_code == 404
    listing = alice_client.get("/espace/droits/").content.decode()
    assert request.reference not in listing and "Durand" not in listing


def test_requests_are_visible_to_their_person_and_to_staff_who_follow_them(
    alice, dave, bob, charlie
):
    request = _dave_s_request(dave)
    assert not RightsRequest.objects.visible_to(alice.account).filter(pk=request.pk).exists()
    assert RightsRequest.objects.visible_to(dave.account).filter(pk=request.pk).exists()
    assert RightsRequest.objects.visible_to(bob).filter(pk=request.pk).exists()
    assert not RightsRequest.objects.visible_to(charlie).exists()
