"""Who may open each page of the member space: one permission test per view."""

from __future__ import annotations

import pytest

from mutualis.portal.tests.helpers import MEMBER_PAGES, PUBLIC_PAGES, member_pages

pytestmark = pytest.mark.django_db

MEMBER_PAGE_NAMES = [*MEMBER_PAGES, "contract"]


def _url(page: str, member) -> str:
    return f"/espace/contrats/{member.contracts.get().pk}/" if page == "contract" else page


@pytest.mark.parametrize("page", MEMBER_PAGE_NAMES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, alice, page):
    url = _url(page, alice)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/espace/connexion/?next={url}"


@pytest.mark.parametrize("page", MEMBER_PAGE_NAMES)
@pytest.mark.parametrize("staff", ["bob", "charlie"])
def test_a_staff_account_is_refused_the_member_space(client, alice, page, staff, request):
    client.force_login(request.getfixturevalue(staff))
    response = client.get(_url(page, alice))
    assert response.status_code == 403
    body = response.content.decode()
    assert "réservé aux adhérents" in body
    assert alice.person.last_name not in body


@pytest.mark.parametrize("page", MEMBER_PAGE_NAMES)
def test_a_member_opens_every_page_of_their_space(alice_client, alice, page):
    response = alice_client.get(_url(page, alice))
    assert response.status_code == 200


def test_a_member_account_without_a_member_record_is_refused(client, db):
    from mutualis.members.models import User

    orphan = User.objects.create_user("orphelin@example.org", password="x" * 12)
    client.force_login(orphan)
    assert client.get("/espace/").status_code == 403


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_the_login_and_password_pages_are_open_to_anyone(client, url):
    assert client.get(url).status_code == 200


def test_a_logged_in_member_visiting_the_login_page_goes_to_the_dashboard(alice_client):
    response = alice_client.get("/espace/connexion/")
    assert response.status_code == 302
    assert response["Location"] == "/espace/"


def test_logout_refuses_get(alice_client, alice):
    assert alice_client.get("/espace/deconnexion/").status_code == 405
    assert alice_client.get("/espace/").status_code == 200  # still logged in


def test_every_member_page_is_listed_here(alice):
    """A new page of the member space must be added to these tests."""
    from django.urls import get_resolver

    names = {p.name for p in get_resolver("mutualis.portal.urls").url_patterns}
    assert names == {
        "dashboard",
        "login",
        "logout",
        "activate",
        "password_reset",
        "password_reset_done",
        "password_reset_complete",
        "password_reset_confirm",
        "contract",
        "my_data",
        "contact_details",
        "bank",
        "bank_done",
        "preferences",
        "preferences_object",
        "terms",
        # POST only: tested in portal/tests/test_terms.py.
        "policy_seen",
        # Receipts of consents: tested in consent/tests/test_receipts.py.
        "consent_receipt",
        "consent_receipt_json",
        # « Écrire à la mutuelle »: tested in contact/tests/test_faces_member_space.py.
        "messages",
        "message_new",
        "message_thread",
        # « Mes droits »: tested in rights/tests/test_access_and_leaks.py.
        "rights",
        "rights_access",
        "rights_portability",
        "rights_rectification",
        "rights_erasure",
        "rights_objection",
        "rights_marketing_objection",
        "rights_consent_withdrawal",
        "rights_restriction",
        "rights_post_mortem",
        "rights_revoke_directive",
        "rights_request",
        "rights_download",
        "premiums",
        # The certificate and the letters: tested in portal/tests/test_premiums.py.
        "premiums_certificate",
        "premiums_letter",
    }
    assert len(member_pages(alice)) == len(MEMBER_PAGE_NAMES)
