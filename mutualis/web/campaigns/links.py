"""The absolute links campaign messages carry, to pages of the public site and member space."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from mutualis.consent.messages import Links


def _absolute(path: str) -> str:
    return settings.MUTUALIS_SITE_URL.rstrip("/") + path


# A token of the right shape, to reverse the unsubscribe URL once per sending, not per message.
_SAMPLE_TOKEN = "0" * 32 + ":" + "A" * 43


def campaign_links() -> Links:
    unsubscribe = _absolute(reverse("web:unsubscribe", args=[_SAMPLE_TOKEN]))
    return Links(
        unsubscribe=lambda token: unsubscribe.replace(_SAMPLE_TOKEN, token),
        preferences=_absolute(reverse("portal:preferences")),
        policy=_absolute(reverse("web:policy")),
    )
