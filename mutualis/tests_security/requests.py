"""Asking a page the way each suite does: GET, or POST when the page only takes a POST."""

from __future__ import annotations

from django.test import Client

from mutualis.lib.pages import Case


def fetch(client: Client, url: str, case: Case | None = None, world=None, **extra):
    """GET ``url`` (after the case's set-up); a 405 means an act: POST it, empty."""
    if case is not None and case.setup is not None:
        case.setup(client, world)
    response = client.get(url, **extra)
    if response.status_code == 405:
        response = client.post(url, {}, **extra)
    return response


def is_login_redirect(response, login_path: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{login_path}?next=")
