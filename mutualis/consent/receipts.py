"""Receipts of consents and withdrawals, for the person they concern (GDPR art. 7(1), 15).

A receipt is the mutuelle's record of one choice, handed to the person: what they agreed to or
withdrew, the exact notice they were shown, when, how and who recorded it, the controller and how
to withdraw. Its JSON is shaped on the Kantara Initiative Consent Receipt v1.1 (the top-level
fields: ``version``, ``jurisdiction``, ``consentTimestamp``, ``collectionMethod``,
``consentReceiptID``, ``piiPrincipalId``, ``piiControllers``, ``policyUrl``, ``services`` with
their ``purposes``, ``sensitive``, ``spiCat``) and carries, under ``record``, the elements of a
consent record of ISO/IEC TS 27560:2023 (identifiers, the notice with its version and
fingerprint, the event — given or withdrawn — with its time, method and recorder, the state after
it, the previous record of the same choice, the legal basis and the withdrawal method). The
schema is ``mutualis.consent-receipt/1``, documented in ``docs/communications.md``. The same
content is shown as a readable page in the member space.
"""

from __future__ import annotations

import datetime

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.consent.models import Action, Channel, ConsentDocument, ConsentEvent, Source, Topic
from mutualis.consent.tags import ConsentTag
from mutualis.privacy import catalogue

SCHEMA = "mutualis.consent-receipt/1"
KANTARA_VERSION = "KI-CR-v1.1.0"
WITHDRAWAL_METHOD = (
    "Depuis l'espace adhérent (Mes préférences), par le lien de désinscription présent dans "
    "chaque message, ou par courrier ou courriel à la mutuelle ; le retrait prend effet "
    "immédiatement et n'a pas d'effet rétroactif."
)


def choice_label(topic: str, channel: str) -> str:
    return f"{Topic(topic).label} — {Channel(channel).label.lower()}"


def recorded_by(event: ConsentEvent) -> str:
    """Who wrote the choice down, as the person reads it."""
    if event.source == Source.UNSUBSCRIBE_LINK:
        return "le lien de désinscription d'un message de la mutuelle"
    if event.actor == "system" or event.actor == "anonymous":
        return "enregistrement automatique"
    if event.source in (Source.MEMBER_SPACE,):
        return "vous-même, connecté à votre espace adhérent"
    return "un conseiller de la mutuelle"


def _iso(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _principal_id(event: ConsentEvent) -> str:
    member = getattr(event.person, "member", None)
    return member.number if member is not None else str(event.person_id)


def previous_event(event: ConsentEvent) -> ConsentEvent | None:
    return (
        ConsentEvent.objects.filter(
            person_id=event.person_id, topic=event.topic, channel=event.channel, at__lt=event.at
        )
        .order_by("-at")
        .first()
    )


def _controller(organisation: dict) -> dict:
    """The Kantara ``piiControllers`` entry: the mutuelle, reached through its DPO; its phone
    number when the settings give one (``MUTUALIS_ORGANISATION["phone"]``)."""
    entry = {
        "piiController": organisation["name"],
        "contact": "Délégué à la protection des données",
        "address": organisation["address"],
        "email": organisation["dpo_email"],
    }
    if organisation.get("phone"):
        entry["phone"] = organisation["phone"]
    return entry


def receipt(event: ConsentEvent, *, policy_url: str) -> dict:
    """The receipt of ``event`` (see the module docstring)."""
    organisation = settings.MUTUALIS_ORGANISATION
    purpose = catalogue.COMMUNICATION
    given = event.action == Action.GRANTED
    notice = event.notice
    previous = previous_event(event)
    document = ConsentDocument.objects.filter(event=event).first()
    return {
        "schema": SCHEMA,
        "version": KANTARA_VERSION,
        "jurisdiction": "FR",
        "language": "fr",
        "consentReceiptID": str(event.pk),
        "consentTimestamp": int(event.at.timestamp()),
        "collectionMethod": event.get_source_display(),
        "piiPrincipalId": _principal_id(event),
        "piiControllers": [_controller(organisation)],
        "policyUrl": policy_url,
        "services": [
            {
                "service": purpose.title,
                "purposes": [
                    {
                        "purpose": choice_label(event.topic, event.channel),
                        "purposeCategory": [purpose.code],
                        "consentType": "EXPLICIT",
                        "piiCategory": sorted(c.label for c in purpose.categories),
                        "primaryPurpose": False,
                        "termination": purpose.retention.summary,
                        "thirdPartyDisclosure": False,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "record": {
            "record_id": str(event.pk),
            "pii_principal_id": _principal_id(event),
            "controller": organisation["name"],
            "event": {
                "type": "given" if given else "withdrawn",
                "time": _iso(event.at),
                "method": event.get_source_display(),
                "recorded_by": recorded_by(event),
                "document": (
                    {
                        "kind": "note" if not document.size else "file",
                        "filename": document.filename,
                        "sha256": document.sha256,
                    }
                    if document is not None
                    else None
                ),
            },
            "consent": {
                "topic": event.topic,
                "topic_label": Topic(event.topic).label,
                "channel": event.channel,
                "channel_label": Channel(event.channel).label,
                "state_after": "active" if given else "withdrawn",
            },
            "notice": (
                {
                    "id": notice.reference,
                    "version": notice.version,
                    "text": notice.text,
                    "sha256": notice.sha256,
                    "in_force_since": _iso(notice.published_at),
                    "language": "fr",
                }
                if notice is not None
                else None
            ),
            "previous_record_id": str(previous.pk) if previous else None,
            "legal_basis": f"{purpose.legal_basis.label} ({purpose.legal_basis.article})",
            "withdrawal": WITHDRAWAL_METHOD,
            "retroactive": False,
        },
    }


def receipt_json(event: ConsentEvent, *, policy_url: str) -> bytes:
    return orjson.dumps(receipt(event, policy_url=policy_url), option=orjson.OPT_INDENT_2)


def record_receipt_download(*, event: ConsentEvent, actor, kind: str) -> None:
    with transaction.atomic():
        audit.record(
            ConsentTag.RECEIPT_DOWNLOAD,
            actor=actor,
            subject=event.person_id,
            target=event,
            details={"format": kind},
        )
