"""Login lockout (django-axes): which account an attempt is for, and the page a locked-out
visitor sees.

Both are named in settings (``AXES_USERNAME_CALLABLE``, ``AXES_LOCKOUT_CALLABLE``).
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The address an attempt was made for, normalised so that ``Alice@Example.org`` and
    ``alice@example.org`` count against the same account.

    Django's login form passes ``username`` to ``authenticate()``, while django-axes would look
    for the model's ``USERNAME_FIELD`` (``email``) and so never see it.
    """
    value = None
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "POST", None) or {}
        value = data.get("username") or data.get("email")
    if not value:
        return None
    # axes stores it in a 255-character column; no address is longer than 254 (RFC 5321).
    return str(value).strip().lower()[:254]


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """A French page saying why and for how long, without repeating the address typed."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    match = getattr(request, "resolver_match", None)
    in_member_space = match is not None and match.namespace == "portal"
    response = render(
        request,
        "portal/lockout.html",
        {"minutes": minutes, "in_member_space": in_member_space},
        status=429,
    )
    add_never_cache_headers(response)
    return response
