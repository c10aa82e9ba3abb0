"""Public pages: French, accessible basics, strict CSP, security headers, no unneeded cookie."""

from __future__ import annotations

import re

import pytest
from django.core import checks
from django.test import override_settings

pytestmark = pytest.mark.django_db

PAGES = ["/", "/confidentialite/", "/mentions-legales/", "/cookies/", "/contact/"]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_in_french_with_a_skip_link_and_one_h1(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert 'href="#contenu"' in body and 'id="contenu"' in body
    assert body.count("<h1") == 1


@pytest.mark.parametrize("url", PAGES)
def test_page_has_no_inline_script_or_style(client, url):
    body = client.get(url).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "<style" not in body
    assert " style=" not in body
    assert " on" + "click=" not in body


def test_responses_carry_a_strict_content_security_policy(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_responses_carry_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize("url", PAGES)
def test_a_first_visit_sets_no_cookie(client, url, settings):
    response = client.get(url)
    # A page with a form (the contact form, the audience opt-out) sets the CSRF cookie only:
    # strictly necessary, listed on /cookies/. The audience cookie comes from the script's
    # first report, not from the page.
    with_form = {"/contact/", "/cookies/"}
    expected = {settings.CSRF_COOKIE_NAME} if url in with_form else set()
    assert set(response.cookies) == expected


def test_the_cookies_page_lists_only_the_strictly_necessary_cookies(client, settings):
    body = client.get("/cookies/").content.decode()
    assert settings.SESSION_COOKIE_NAME in body
    assert settings.CSRF_COOKIE_NAME in body


def test_unknown_page_answers_a_french_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_post_is_refused_on_read_only_pages(client):
    assert client.post("/").status_code in (403, 405)


def test_static_stylesheet_is_served(client):
    response = client.get("/static/web/site.css")
    try:
        assert response.status_code == 200
        assert b"skip-link" in b"".join(response.streaming_content)
    finally:
        response.close()


def _errors() -> set[str]:
    return {
        m.id
        for m in checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
        if m.is_serious()
    }


@override_settings(SECRET_KEY_MISSING=True, DEV_DEFAULTS=False)
def test_production_without_secret_key_is_refused():
    assert "web.E001" in _errors()


@override_settings(SECRET_KEY="short", DEV_DEFAULTS=False)
def test_production_with_a_weak_secret_key_is_refused():
    assert "web.E002" in _errors()


@override_settings(ALLOWED_HOSTS=[], DEV_DEFAULTS=False)
def test_production_without_allowed_hosts_is_refused():
    assert "web.E003" in _errors()
