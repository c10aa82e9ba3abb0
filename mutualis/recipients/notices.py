"""GDPR art. 19: every recipient that received data is told of their rectification or erasure.

:func:`notify` is called by the rights app when it rectifies or erases a person's data. It
reads the flows that disclosed that person's data in the categories concerned and creates one
:class:`~mutualis.recipients.models.Notice` per organisation, by the channel its kind uses:

- a health professional reads it through the API (``GET /api/v1/notices``): sent (made
  available) at once, delivered when first read;
- a mandatory scheme finds it in its next exchange file (a notice line): sent when written;
- an authority gets a letter, printed from the back office: sent when staff record the posting.

A notice names what the organisation received by its references (rights-check references,
exchange line references, the requisition's reference), never by the person's data. Each
notice and each delivery is audited in its transaction.

A member who corrects their own contact details in the member space exercises the same right
(GDPR art. 16) without a request: :func:`rectify_contact_details` applies the correction and
sends the notices in one transaction, as the rights app does for a request.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.audit.models import Disclosure
from mutualis.members import services as members
from mutualis.privacy import catalogue, registry
from mutualis.recipients import register
from mutualis.recipients.models import (
    CHANNEL_OF_KIND,
    Notice,
    NoticeCause,
    NoticeChannel,
    Organisation,
    RightsCheck,
)
from mutualis.recipients.models_exchange import ExchangeLine, LineKind
from mutualis.recipients.models_requisitions import RequisitionSubject
from mutualis.recipients.services import RecipientsError, actor_label
from mutualis.recipients.tags import RecipientsTag

CATEGORY_LABELS = {c.code: c.label for c in catalogue.ALL_CATEGORIES}
INSTRUCTIONS = {
    NoticeCause.RECTIFICATION: "Les données communiquées sous ces références ont été "
    "rectifiées à la demande de la personne : ne les utilisez plus, vérifiez de nouveau les "
    "droits avant tout nouveau soin.",
    NoticeCause.ERASURE: "Les données communiquées sous ces références ont été effacées à la "
    "demande de la personne : effacez-les à votre tour, sauf obligation légale de les conserver.",
}


def _received(subject_id: str) -> dict[int, tuple[set[str], list[str]]]:
    """Per organisation: the categories it received of the person, and its references."""
    found: dict[int, tuple[set[str], list[str]]] = defaultdict(lambda: (set(), []))
    checks = RightsCheck.objects.filter(subject_id=subject_id, disclosure__isnull=False)
    for organisation_id, pk, categories in checks.values_list(
        "organisation_id", "pk", "disclosure__categories"
    ):
        found[organisation_id][0].update(categories or [])
        found[organisation_id][1].append(str(pk))
    lines = ExchangeLine.objects.filter(
        subject_id=subject_id, kind=LineKind.AFFILIATION, disclosure__isnull=False
    ).select_related("exchange")
    for line in lines:
        entry = found[line.exchange.organisation_id]
        entry[0].update(line.disclosure.categories or [])
        entry[1].append(line.reference)
    subjects = RequisitionSubject.objects.filter(
        subject_id=subject_id, disclosure__isnull=False
    ).select_related("requisition", "disclosure")
    for subject in subjects:
        entry = found[subject.requisition.organisation_id]
        entry[0].update(subject.disclosure.categories or [])
        entry[1].append(subject.requisition.reference)
    return found


def _letter(organisation: Organisation, cause: str, categories, references) -> str:
    org = settings.MUTUALIS_ORGANISATION
    what = ", ".join(CATEGORY_LABELS.get(c, c) for c in categories)
    return (
        f"{organisation.name}\n{organisation.address}\n\n"
        f"Objet : {NoticeCause(cause).label} de données communiquées (RGPD art. 19)\n\n"
        f"Madame, Monsieur,\n\nEn réponse à votre demande référencée {', '.join(references)}, "
        f"{org['name']} vous a communiqué des données ({what}). {INSTRUCTIONS[cause]}\n\n"
        f"Le délégué à la protection des données\n{org['name']}, {org['address']}\n"
        f"{org['dpo_email']}\n"
    )


def notify(*, subject_id: str, categories, cause: str, source: str, actor=None) -> list[Notice]:
    """Create the art. 19 notices for a rectification or erasure of ``subject_id``'s data in
    ``categories``; returns them (one per organisation that received those categories).

    Call it inside the transaction of the rectification or erasure it reports.
    """
    codes = {getattr(c, "code", c) for c in categories}
    now = timezone.now()
    created = []
    received = _received(str(subject_id))
    organisations = Organisation.objects.in_bulk(list(received))
    for organisation_id, (got, references) in sorted(received.items()):
        concerned = sorted(codes & got)
        organisation = organisations.get(organisation_id)
        if not concerned or organisation is None:
            continue
        channel = CHANNEL_OF_KIND[organisation.kind]
        notice = Notice.objects.create(
            organisation=organisation,
            cause=cause,
            channel=channel,
            categories=concerned,
            references=sorted(set(references)),
            source=source[:100],
            letter=_letter(organisation, cause, concerned, sorted(set(references)))
            if channel == NoticeChannel.LETTER
            else "",
            sent_at=now if channel == NoticeChannel.API else None,
        )
        audit.record(
            RecipientsTag.NOTICE_CREATE,
            actor=actor,
            subject=subject_id,
            target=notice,
            details={
                "organisation": organisation.pk,
                "cause": cause,
                "channel": channel,
                "categories": concerned,
            },
        )
        created.append(notice)
    return created


@dataclass(frozen=True)
class Rectified:
    """What a correction changed, and which recipients the person may be told were notified
    (an authority whose requisition is secret is notified, never named to the person)."""

    changed: list[str]
    told: list[str]


def _told_to_the_person(person, categories) -> list[str]:
    codes = {getattr(c, "code", c) for c in categories}
    seen = set()
    disclosures = register.visible_to_the_person(
        Disclosure.objects.filter(subject_id=str(person.pk))
    )
    for recipient, disclosed in disclosures.values_list("recipient", "categories"):
        if codes & set(disclosed or []):
            seen.add(recipient)
    return [r.label for r in catalogue.ALL_RECIPIENTS if r.code in seen]


def rectify_contact_details(*, person, changes: dict, actor, source: str) -> Rectified:
    """Correct ``person``'s contact details (``members.services.rectify_contact_details``) and,
    in the same transaction, send the art. 19 notices to every organisation that received them
    (``source`` names where the correction came from). Raises what the members service raises
    (``ValidationError``, ``IntegrityError`` for an address already taken): nothing is written."""
    with transaction.atomic():
        changed = members.rectify_contact_details(person=person, changes=changes, actor=actor)
        if not changed:
            return Rectified(changed=[], told=[])
        declaration = registry.get("members.Person")
        categories = sorted({declaration.fields[name].category.code for name in changed})
        notify(
            subject_id=str(person.pk),
            categories=categories,
            cause=NoticeCause.RECTIFICATION,
            source=source,
            actor=actor,
        )
        return Rectified(changed=list(changed), told=_told_to_the_person(person, categories))


def for_organisation(
    organisation: Organisation, *, since: datetime.datetime | None, limit: int
) -> list[Notice]:
    """The API notices of ``organisation`` (after ``since``), recorded as delivered when first
    read."""
    qs = Notice.objects.filter(organisation=organisation, channel=NoticeChannel.API)
    if since is not None:
        qs = qs.filter(created_at__gt=since)
    notices = list(qs.order_by("created_at", "pk")[:limit])
    first_reads = [n for n in notices if n.delivered_at is None]
    if first_reads:
        now = timezone.now()
        with transaction.atomic():
            Notice.objects.filter(pk__in=[n.pk for n in first_reads]).update(delivered_at=now)
            for notice in first_reads:
                notice.delivered_at = now
                audit.record(
                    RecipientsTag.NOTICE_DELIVER,
                    actor=organisation,
                    target=notice,
                    details={"organisation": organisation.pk, "channel": notice.channel},
                )
    return notices


def record_letter_sent(*, notice: Notice, actor) -> Notice:
    """Record that an authority's letter was posted."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        if notice.channel != NoticeChannel.LETTER:
            raise RecipientsError("Cet avis ne s'envoie pas par courrier.")
        if notice.sent_at is not None:
            return notice
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
        audit.record(
            RecipientsTag.NOTICE_SEND,
            actor=actor,
            target=notice,
            details={"organisation": notice.organisation_id, "by": actor_label(actor)},
        )
    return notice
