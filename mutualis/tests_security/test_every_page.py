"""Generated from the resolver, on every public, member and staff page: a POST without a CSRF
token is refused; the security headers are there, HSTS and secure cookies included under the
production settings; no form sends a NIR by GET (no free text in a GET form)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from mutualis.tests_security.pages_of_every_face import every_page
from mutualis.tests_security.requests import fetch

pytestmark = pytest.mark.django_db

PRODUCTION_SECURITY = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}
FREE_TEXT = re.compile(
    r'<input(?![^>]*\btype="(?:hidden|checkbox|radio|submit|button|date|month)")[^>]*>|<textarea',
    re.I,
)


def test_every_post_without_a_csrf_token_is_refused(world):
    """Refused (403), except where the case says why not: then the view is marked
    ``csrf_exempt`` and the post is answered without error."""
    failures, exempted = [], []
    for route, case, persona in every_page():
        client = world.client_as(persona, enforce_csrf_checks=True)
        response = client.post(world.url(case), {"x": "1"})
        if case.csrf_exempt:
            exempted.append(route.name)
            if len(case.csrf_exempt.split()) < 3 or not getattr(route.callback, "csrf_exempt", 0):
                failures.append(f"{route.name}: exempted without a reason or a csrf_exempt view")
            elif response.status_code == 403 or response.status_code >= 500:
                failures.append(f"{route.name} (exempt) as {persona}: {response.status_code}")
        elif response.status_code != 403:
            failures.append(f"{route.name} as {persona}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert exempted == ["web:unsubscribe"]  # RFC 8058; nothing else skips the check


def _header_problems(response) -> list[str]:
    problems = []
    csp = response.get("Content-Security-Policy", "")
    if "default-src 'none'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"CSP {csp!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append("CSP allows inline code")
    expected = {
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for header, value in expected.items():
        if response.get(header) != value:
            problems.append(f"{header}: {response.get(header)!r}")
    if "camera=()" not in response.get("Permissions-Policy", ""):
        problems.append("Permissions-Policy")
    hsts = response.get("Strict-Transport-Security", "")
    if (
        not re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)
        or int(hsts.split("=")[1].split(";")[0]) < 31536000
    ):
        problems.append(f"HSTS {hsts!r}")
    for cookie in response.cookies.values():
        if cookie.value and not cookie["secure"]:
            problems.append(f"cookie {cookie.key} not Secure")
        if cookie.key == settings.SESSION_COOKIE_NAME and cookie.value and not cookie["httponly"]:
            problems.append("session cookie readable by scripts")
    return problems


@override_settings(**PRODUCTION_SECURITY)
def test_every_page_carries_the_security_headers_over_https(world):
    failures, free_text = [], []
    for route, case, persona in every_page():
        response = fetch(world.client_as(persona), world.url(case), case, world, secure=True)
        failures += [f"{route.name}: {p}" for p in _header_problems(response)]
        if "text/html" in response.get("Content-Type", ""):
            body = response.content.decode()
            for form in re.findall(
                r"<form\b(?![^>]*method=\"post\")[^>]*>.*?</form>", body, re.S | re.I
            ):
                if FREE_TEXT.search(form):
                    free_text.append(route.name)
    assert not failures, "\n".join(failures)
    assert not free_text, f"forms that would send typed text (a NIR?) by GET: {free_text}"


@override_settings(**PRODUCTION_SECURITY)
def test_plain_http_is_redirected_to_https(world):
    for route, case, persona in every_page():
        response = world.client_as(persona).get(world.url(case))
        assert response.status_code == 301 and response["Location"].startswith("https://"), (
            route.name
        )


def test_the_production_settings_are_the_ones_checked_above(tmp_path):
    """What settings.py computes with DEBUG off: the values the test above overrides to."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "MUTUALIS_"))},
        "DEBUG": "0",
        "MUTUALIS_TESTING": "0",
        "SECRET_KEY": "x" * 60,
        "MUTUALIS_MASTER_KEY": "A" * 43 + "=",
        "MUTUALIS_BLIND_INDEX_KEY": "B" * 43 + "=",
        "ALLOWED_HOSTS": "mutuelle.example",
        "MUTUALIS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "mutualis.settings",
    }
    names = sorted(PRODUCTION_SECURITY)
    script = (
        "import json, django; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    out = subprocess.run(  # noqa: S603 - the test's own interpreter and script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == PRODUCTION_SECURITY
