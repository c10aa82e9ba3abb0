"""The one-click unsubscribe of a campaign message (RFC 8058), without logging in.

Each message carries the address of its own send-log row, signed with the site's secret key
(:func:`token_for`): whoever holds the message can withdraw the consent it was sent on, and
nothing else — the link names no person and cannot be guessed or turned to another row. It does
not expire: a message read months later must still let its reader unsubscribe.
"""

from __future__ import annotations

import re
import uuid

from django.core import signing
from django.db import transaction
from django.utils import timezone

from mutualis.consent import services
from mutualis.consent.models import (
    CampaignKind,
    Channel,
    ConsentEvent,
    Delivery,
    Preference,
    Source,
)
from mutualis.consent.models.campaigns import KIND_TOPIC

_SALT = "mutualis.consent.unsubscribe"
TOKEN_PATTERN = r"[0-9a-f]{32}:[A-Za-z0-9_-]{20,64}"  # noqa: S105 - a pattern, not a secret
_TOKEN = re.compile(rf"^{TOKEN_PATTERN}$")


def token_for(delivery_id: uuid.UUID) -> str:
    return signing.Signer(salt=_SALT).sign(uuid.UUID(str(delivery_id)).hex)


def delivery_for(token: str) -> Delivery | None:
    """The send-log row a token names, or ``None`` for a forged, altered or stale one."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return (
        Delivery.objects.select_related("campaign", "person")
        .exclude(campaign__kind=CampaignKind.SERVICE)
        .filter(pk=uuid.UUID(value))
        .first()
    )


def is_subscribed(delivery: Delivery) -> bool:
    topic = KIND_TOPIC[delivery.campaign.kind]
    return Preference.objects.filter(
        person_id=delivery.person_id, topic=topic, channel=Channel.EMAIL, granted=True
    ).exists()


def unsubscribe(*, delivery: Delivery, actor=None) -> ConsentEvent | None:
    """Withdraw the consent ``delivery`` was sent on (its topic, by e-mail), at once (GDPR
    art. 7(3), 21(3)), recorded with its source (the link) and the campaign. Returns the new
    withdrawal, or ``None`` when it was already withdrawn (the link is idempotent)."""
    topic = KIND_TOPIC[delivery.campaign.kind]
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now()
        )
        if not is_subscribed(delivery):
            return None
        return services.withdraw(
            person=delivery.person,
            topic=topic,
            channel=Channel.EMAIL,
            source=Source.UNSUBSCRIBE_LINK,
            actor=actor,
            reference=f"consent.campaign:{delivery.campaign_id}",
        )
