"""Private pages are never cached, every POST needs a CSRF token, and the CSP holds."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from mutualis.portal.tests.helpers import PUBLIC_PAGES, member_pages

pytestmark = pytest.mark.django_db


def test_every_page_forbids_caching(alice_client, alice, client):
    for url in member_pages(alice):
        assert "no-store" in alice_client.get(url)["Cache-Control"], url
    anonymous = Client()
    for url in PUBLIC_PAGES:
        assert "no-store" in anonymous.get(url)["Cache-Control"], url
    # The redirect to the login page too: it must not be cached either.
    assert "no-store" in anonymous.get("/espace/")["Cache-Control"]


def test_pages_have_no_inline_script_or_style_and_one_h1(alice_client, alice):
    for url in member_pages(alice):
        body = alice_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert "<style" not in body and " style=" not in body, url
        assert body.count("<h1") == 1, url
        assert 'href="#contenu"' in body, url
        assert '<nav class="portal-nav" aria-label="Espace adhérent">' in body, url
        # Only the member-space link is current (not a public-site link of the same name).
        assert body.count('aria-current="page"') <= 1, url


def test_pages_carry_the_strict_content_security_policy(alice_client):
    csp = alice_client.get("/espace/")["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_the_logout_button_is_a_form_with_a_csrf_token(alice_client):
    body = alice_client.get("/espace/").content.decode()
    form = re.search(r'<form[^>]*action="/espace/deconnexion/".*?</form>', body, re.S).group()
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form


@pytest.mark.parametrize(
    "url",
    [
        "/espace/connexion/",
        "/espace/deconnexion/",
        "/espace/coordonnees/",
        "/espace/compte-bancaire/",
        "/espace/mot-de-passe/",
    ],
)
def test_a_post_without_csrf_token_is_refused(alice, url):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.account)
    assert browser.post(url, {}).status_code == 403


def test_form_errors_are_tied_to_their_fields(alice_client):
    body = alice_client.post("/espace/coordonnees/", {"postal_code": "123"}).content.decode()
    assert 'role="alert"' in body
    field = re.search(r"<input[^>]*name=\"postal_code\"[^>]*>", body).group()
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_postal_code_error"' in field
    assert 'id="id_postal_code_error"' in body
    assert '<label for="id_postal_code">' in body


def test_the_member_space_stylesheet_is_served(client):
    response = client.get("/static/portal/portal.css")
    try:
        assert response.status_code == 200
        assert b".portal-nav" in b"".join(response.streaming_content)
    finally:
        response.close()


def test_the_login_page_sets_no_cookie_before_a_login_attempt(client):
    # The CSRF cookie is strictly necessary for the form; nothing else is set.
    response = client.get("/espace/connexion/")
    assert set(response.cookies) <= {"csrftoken"}
