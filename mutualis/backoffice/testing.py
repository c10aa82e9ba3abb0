"""Helpers for tests that need a staff member in the back office (reusable by other apps).

    from mutualis.backoffice.testing import login_verified

    def test_something(client, bob):
        login_verified(client, bob)      # bob gets a confirmed TOTP device, logged in verified
        client.get("/gestion/")

``login_verified`` skips the login pages (``force_login`` + the django-otp session key);
``current_code`` computes the code a device shows now, to drive the real login pages.
"""

from __future__ import annotations

import html
import time

from django.utils.html import strip_tags
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.lib import french
from mutualis.members.models import User

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def give_device(user: User, *, confirmed: bool = True) -> TOTPDevice:
    """A TOTP device for ``user`` (confirmed by default), with a random key."""
    return TOTPDevice.objects.create(user=user, name="Test", confirmed=confirmed)


def current_code(device: TOTPDevice) -> str:
    """The 6-digit code ``device`` shows at the current (possibly frozen) time."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def login_verified(client, user: User, *, reauthenticated: bool = False) -> TOTPDevice:
    """Log ``user`` into ``client`` as if both factors had been given; return the device.

    ``reauthenticated``: as if the staff member had also just re-authenticated (reveals,
    exports, staff administration); see :func:`mark_reauthenticated`.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or give_device(user)
    client.force_login(user, backend=MODEL_BACKEND)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    if reauthenticated:
        mark_reauthenticated(client)
    return device


def mark_reauthenticated(client) -> None:
    """As if the logged-in staff member had given their password and code again just now."""
    from mutualis.backoffice.auth.reauth import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = int(time.time())
    session.save()


def login_unverified(client, user: User) -> None:
    """Log ``user`` in with the password only (no second factor in the session)."""
    client.force_login(user, backend=MODEL_BACKEND)


def page_text(response) -> str:
    """The response body with HTML entities decoded (``d&#x27;adhérent`` → ``d'adhérent``) and
    the non-breaking spaces of French typography read as spaces."""
    return french.plain(html.unescape(response.content.decode()))


def visible_text(response) -> str:
    """The page's text without tags, whitespace collapsed: what a reader sees, in order."""
    return " ".join(strip_tags(page_text(response)).split())
