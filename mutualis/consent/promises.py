"""``privacy_check`` T8: every campaign recipient could be sent it when it left (policy 1-C;
GDPR art. 7(1), 18, 21(3)).

The check does not trust the send log's own pointer to the consent it relied on, nor the
selection that froze the audience: for each row sent (or whose sending was interrupted, so may
have been sent), whatever the kind of campaign, it reads the history as it stood at that moment:

- no death recorded;
- no restriction (GDPR art. 18) in force on the purpose the campaign serves (the contract for
  service information, communication for the others) or on every purpose;
- for a campaign that needs consent (newsletter, offers, surveys): the latest choice for that
  topic on that channel was a grant, and — for a marketing topic — no objection to marketing
  was in force.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from mutualis.consent.campaigns import purpose_of
from mutualis.consent.models import (
    MARKETING_TOPICS,
    Action,
    CampaignKind,
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    MarketingObjection,
)
from mutualis.consent.models.campaigns import KIND_TOPIC
from mutualis.lib.french import plural
from mutualis.privacy import promises
from mutualis.privacy.models import Restriction

_MAY_HAVE_LEFT = [DeliveryStatus.SENT, DeliveryStatus.EXPORTED, DeliveryStatus.UNCERTAIN]
_CONSENT_KINDS = [kind for kind, topic in KIND_TOPIC.items() if topic is not None]
_OBJECTION_KINDS = [kind for kind, topic in KIND_TOPIC.items() if topic in MARKETING_TOPICS]

NO_CONSENT = "sans accord en vigueur, ou malgré une opposition à la prospection"
RESTRICTED = "à une personne dont le traitement était limité (RGPD art. 18)"
DECEASED = "à une personne dont le décès était enregistré"


def _rows_that_left() -> QuerySet:
    rows = Delivery.objects.filter(status__in=_MAY_HAVE_LEFT)
    return rows.annotate(left_at=Coalesce("sent_at", "claimed_at", "queued_at"))


def rows_without_consent() -> QuerySet:
    """Rows of consent-based campaigns without a grant in force, or despite an objection."""
    rows = _rows_that_left().filter(campaign__kind__in=_CONSENT_KINDS)
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
    breach |= Q(objected=True, campaign__kind__in=_OBJECTION_KINDS)
    return rows.filter(breach)


def rows_of_deceased() -> QuerySet:
    """Rows of any campaign that left after the recipient's death was recorded."""
    if not apps.is_installed("mutualis.rights"):
        return Delivery.objects.none()
    death = apps.get_model("rights", "DeathRecord")
    recorded = death.objects.filter(person=OuterRef("person"), recorded_at__lte=OuterRef("left_at"))
    return _rows_that_left().filter(Exists(recorded))


def rows_of_restricted() -> list[tuple[str, str]]:
    """``(row id, campaign title)`` of the rows of any campaign that left while a restriction
    covering its purpose (or every purpose) was in force for the recipient."""
    found = []
    for restriction in Restriction.objects.order_by("pk"):
        try:
            person = uuid.UUID(restriction.subject_id)
        except ValueError:  # not a person of this register
            continue
        kinds = [
            kind
            for kind in CampaignKind.values
            if restriction.purpose in ("*", purpose_of(kind).code)
        ]
        if not kinds:
            continue
        rows = _rows_that_left().filter(
            person_id=person, campaign__kind__in=kinds, left_at__gte=restriction.started_at
        )
        if restriction.lifted_at is not None:
            rows = rows.filter(left_at__lt=restriction.lifted_at)
        found += [(str(pk), title) for pk, title in rows.values_list("pk", "campaign__title")]
    return found


def breaches() -> list[str]:
    """One line per campaign and reason, naming the send-log rows (never the people)."""
    by_campaign: dict[str, dict[str, list[str]]] = {}

    def add(rows, reason: str) -> None:
        for pk, title in rows:
            by_campaign.setdefault(title, {}).setdefault(reason, []).append(str(pk))

    add(rows_without_consent().order_by("pk").values_list("pk", "campaign__title"), NO_CONSENT)
    add(sorted(rows_of_restricted()), RESTRICTED)
    add(rows_of_deceased().order_by("pk").values_list("pk", "campaign__title"), DECEASED)
    lines = []
    for title in sorted(by_campaign):
        for reason in (NO_CONSENT, RESTRICTED, DECEASED):
            pks = sorted(set(by_campaign[title].get(reason, [])))
            if not pks:
                continue
            sample = ", ".join(pks[:5]) + (" …" if len(pks) > 5 else "")
            lines.append(
                f"campagne « {title} » : {len(pks)} envoi{plural(len(pks))} {reason}, au moment "
                f"de l'envoi (journal n° {sample})"
            )
    return lines


@promises.register(
    "T8", section="1-C, 6", title="Chaque destinataire d'une campagne pouvait la recevoir"
)
def every_recipient_could_be_sent_it(now) -> promises.Finding:
    checked = Delivery.objects.filter(status__in=_MAY_HAVE_LEFT).count()
    return promises.Finding(checked=checked, breaches=breaches())
