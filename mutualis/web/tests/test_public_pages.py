"""Public pages: French, accessible basics, strict CSP, security headers, no unneeded cookie."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
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


def test_favicon_ico_answers_with_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_legal_notice_shows_values_and_never_a_placeholder(client):
    page = client.get("/mentions-legales/").content.decode()
    assert "à renseigner" not in page and "MUTUALIS_" not in page
    director = settings.MUTUALIS_ORGANISATION["director"]
    assert director and director != "Directeur de la publication" and director in page
    assert settings.MUTUALIS_ORGANISATION["host"] in page


def test_production_refuses_to_start_while_a_legal_notice_setting_is_missing(tmp_path):
    """A real process with production settings: `check --deploy` names the missing variable."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "MUTUALIS_MASTER_KEY": key,
        "MUTUALIS_BLIND_INDEX_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "mutuelle.example",
        "MUTUALIS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **LEGAL_NOTICE,
    }
    del env["MUTUALIS_HOST_NAME"]
    manage = Path(settings.BASE_DIR) / "manage.py"
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(manage), "check", "--deploy", "--fail-level", "ERROR"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "web.E004" in result.stderr and "MUTUALIS_HOST_NAME" in result.stderr
    assert "MUTUALIS_PUBLICATION_DIRECTOR" not in result.stderr


LEGAL_NOTICE = {
    "MUTUALIS_ORG_NAME": "Mutuelle Exemple",
    "MUTUALIS_ORG_SHORT_NAME": "ME",
    "MUTUALIS_ORG_SIREN": "123 456 789",
    "MUTUALIS_ORG_ADDRESS": "1 rue Exemple, 75001 Paris",
    "MUTUALIS_DPO_EMAIL": "dpo@exemple.fr",
    "MUTUALIS_CONTACT_EMAIL": "contact@exemple.fr",
    "MUTUALIS_HOST_NAME": "Hébergeur, 2 rue Exemple, 59100 Roubaix",
    "MUTUALIS_PUBLICATION_DIRECTOR": "Jeanne Exemple",
    "MUTUALIS_MEDIATOR_NAME": "Médiateur",
    "MUTUALIS_MEDIATOR_ADDRESS": "3 rue Exemple, 75002 Paris",
}
