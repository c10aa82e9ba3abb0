"""The notices shown when a consent is asked: the version in force, and new versions.

Each topic has one text in force; the first version is written from :data:`DEFAULT_TEXTS` the
first time it is needed, so a fresh database (or a test database) always has one. Changing the
text publishes a new version; earlier versions stay, because consents recorded under them name
them.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from mutualis import audit
from mutualis.consent.models import ConsentNotice, Topic
from mutualis.consent.tags import ConsentTag

_WITHDRAWAL = (
    "Je peux retirer mon accord à tout moment, aussi simplement que je l'ai donné, depuis mon "
    "espace adhérent, par le lien présent dans chaque message ou en écrivant à la mutuelle ; "
    "le retrait n'a pas d'effet rétroactif."
)
DEFAULT_TEXTS: dict[str, str] = {
    Topic.NEWSLETTER: (
        "J'accepte de recevoir la lettre d'information de {org} : nouveautés de mes garanties, "
        "actions de prévention et actualités de la mutuelle, par le canal que je choisis. "
        + _WITHDRAWAL
    ),
    Topic.OFFERS: (
        "J'accepte de recevoir les offres de {org} : nouvelles formules, services et avantages "
        "proposés par la mutuelle ou par ses partenaires, par le canal que je choisis. Mes "
        "coordonnées ne sont jamais transmises à ces partenaires. " + _WITHDRAWAL
    ),
    Topic.SURVEYS: (
        "J'accepte que {org} m'invite à répondre à ses enquêtes de satisfaction, sans aucune "
        "offre commerciale, par le canal que je choisis. " + _WITHDRAWAL
    ),
}
MAX_TEXT = 4000


class NoticeError(ValueError):
    """A notice text the rules refuse (French message)."""


def current_notice(topic: str) -> ConsentNotice:
    """The version in force for ``topic`` (its first version written if there is none yet)."""
    topic = Topic(topic).value
    notice = ConsentNotice.objects.filter(topic=topic).order_by("-version").first()
    if notice is not None:
        return notice
    text = DEFAULT_TEXTS[topic].format(org=settings.MUTUALIS_ORGANISATION["name"])
    try:
        with transaction.atomic():
            return ConsentNotice.objects.create(
                topic=topic, version=1, text=text, published_by="system"
            )
    except IntegrityError:  # written meanwhile by another request
        return ConsentNotice.objects.get(topic=topic, version=1)


def current_notices() -> dict[str, ConsentNotice]:
    return {topic.value: current_notice(topic) for topic in Topic}


def publish_notice(*, topic: str, text: str, actor) -> ConsentNotice:
    """Put a new text in force for ``topic``, as its next version (GDPR art. 7(1), 7(2): the
    request for consent is clear and distinct). Consents already given stay under the version
    they were given under; a text identical to the one in force publishes nothing."""
    topic = Topic(topic).value
    # Runs of spaces and line breaks become one space; non-breaking spaces (French typography)
    # stay as typed.
    text = re.sub(r"[ \t\r\n]+", " ", text or "").strip()
    if len(text) < 40:
        raise NoticeError(
            "La mention doit dire clairement ce qui est accepté (40 caractères au moins)."
        )
    if len(text) > MAX_TEXT:
        raise NoticeError(f"La mention compte {MAX_TEXT} caractères au plus.")
    if "retir" not in text.lower():
        raise NoticeError("La mention doit dire comment retirer son accord (RGPD art. 7(3)).")
    with transaction.atomic():
        current = current_notice(topic)
        if current.text == text:
            return current
        version = (ConsentNotice.objects.filter(topic=topic).aggregate(m=Max("version"))["m"]) + 1
        notice = ConsentNotice.objects.create(
            topic=topic,
            version=version,
            text=text,
            published_by=_label(actor),
        )
        audit.record(
            ConsentTag.NOTICE_PUBLISH,
            actor=actor,
            target=notice,
            details={"topic": topic, "version": version, "sha256": notice.sha256},
        )
    return notice


def _label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor._meta.model_name}:{actor.pk}" if hasattr(actor, "_meta") else str(actor)[:100]
