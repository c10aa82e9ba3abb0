"""The absolute links campaign messages carry, to pages of the public site and member space."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from mutualis.consent.messages import Links


def _absolute(path: str) -> str:
    return settings.MUTUALIS_SITE_URL.rstrip("/") + path


def campaign_links() -> Links:
    return Links(
        unsubscribe=lambda token: _absolute(reverse("web:unsubscribe", args=[token])),
        preferences=_absolute(reverse("portal:preferences")),
        policy=_absolute(reverse("web:policy")),
    )
