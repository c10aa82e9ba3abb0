"""``privacy_check`` T8: every campaign recipient had agreed, and had not objected, when the
message left (policy 1-C; GDPR art. 7(1), 21(3)).

The check does not trust the send log's own pointer to the consent it relied on: for each row
sent (or whose sending was interrupted, so may have been sent), it reads the consent history as
it stood at that moment — the latest choice for that topic on that channel must be a grant, no
objection to marketing may have been in force, and no death recorded.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from mutualis.consent.models import (
    Action,
    CampaignKind,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    MarketingObjection,
)
from mutualis.privacy import promises

_MAY_HAVE_LEFT = [DeliveryStatus.SENT, DeliveryStatus.EXPORTED, DeliveryStatus.UNCERTAIN]
_MARKETING = [CampaignKind.NEWSLETTER, CampaignKind.OFFERS]


def _rows_without_consent():
    rows = Delivery.objects.filter(status__in=_MAY_HAVE_LEFT).exclude(
        campaign__kind=CampaignKind.SERVICE
    )
    rows = rows.annotate(left_at=Coalesce("sent_at", "claimed_at", "queued_at"))
    latest = (
        ConsentEvent.objects.filter(
            person=OuterRef("person"),
            topic=OuterRef("campaign__kind"),  # a consent campaign's kind is its topic
            channel=OuterRef("campaign__channel"),
            at__lte=OuterRef("left_at"),
        )
        .order_by("-at")
        .values("action")[:1]
    )
    objected = MarketingObjection.objects.filter(
        person=OuterRef("person"), at__lte=OuterRef("left_at")
    ).filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=OuterRef("left_at")))
    rows = rows.annotate(choice=Subquery(latest), objected=Exists(objected))
    breach = Q(choice__isnull=True) | ~Q(choice=Action.GRANTED)
    breach |= Q(objected=True, campaign__kind__in=_MARKETING)
    if apps.is_installed("mutualis.rights"):
        death = apps.get_model("rights", "DeathRecord")
        rows = rows.annotate(
            dead=Exists(
                death.objects.filter(
                    person=OuterRef("person"), recorded_at__lte=OuterRef("left_at")
                )
            )
        )
        breach |= Q(dead=True)
    return rows.filter(breach)


@promises.register(
    "T8", section="1-C, 6", title="Chaque destinataire d'une campagne avait donné son accord"
)
def every_recipient_had_agreed(now) -> promises.Finding:
    checked = Delivery.objects.filter(status__in=_MAY_HAVE_LEFT).count()
    bad = _rows_without_consent()
    by_campaign: dict = {}
    for pk, title in bad.order_by("campaign__title", "pk").values_list("pk", "campaign__title"):
        by_campaign.setdefault(title, []).append(str(pk))
    breaches = []
    for title, pks in by_campaign.items():
        sample = ", ".join(pks[:5]) + (" …" if len(pks) > 5 else "")
        breaches.append(
            f"campagne « {title} » : {len(pks)} envoi(s) sans accord en vigueur, ou malgré une "
            f"opposition ou un décès, au moment de l'envoi (journal n° {sample})"
        )
    return promises.Finding(checked=checked, breaches=breaches)
