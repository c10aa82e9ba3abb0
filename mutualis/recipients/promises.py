"""T6, checked by ``manage.py privacy_check``: recipients get only what the declaration grants.

- every disclosure in the register names a recipient of the declaration and only categories
  the declaration grants that recipient (GDPR art. 5(1)(b), 30(1)(d));
- every answer of the rights-check API that told an organisation something about a person has
  its disclosure, to the health professionals and about that person;
- every person's line of an exchange file that was sent has its disclosure.

Breaches name records by id, never by content.
"""

from __future__ import annotations

import datetime

from mutualis.audit.models import Disclosure
from mutualis.lib.french import plural
from mutualis.privacy import catalogue
from mutualis.privacy.promises import Finding, register
from mutualis.recipients.models import DISCLOSING_OUTCOMES, RightsCheck
from mutualis.recipients.models_exchange import ExchangeLine, ExchangeStatus, LineKind

NAME = "T6"
SHOWN = 5


def _ids(ids: list) -> str:
    return ", ".join(str(i) for i in ids[:SHOWN]) + (" …" if len(ids) > SHOWN else "")


def disclosures_beyond_the_declaration(checked: list[int]) -> list[str]:
    granted = {r.code: {c.code for c in r.categories} for r in catalogue.ALL_RECIPIENTS}
    labels = {r.code: r.label for r in catalogue.ALL_RECIPIENTS}
    rows = Disclosure.objects.order_by("pk").values_list("pk", "recipient", "categories")
    breaches = []
    for pk, recipient, categories in rows.iterator(chunk_size=5000):
        checked[0] += 1
        if recipient not in granted:
            breaches.append(f"communication n° {pk} : destinataire inconnu de la déclaration")
            continue
        extra = sorted(set(categories or []) - granted[recipient])
        if extra or not categories:
            breaches.append(
                f"communication n° {pk} à « {labels[recipient]} » : catégories que la "
                f"déclaration ne lui accorde pas ({', '.join(extra) or 'aucune catégorie'})"
            )
    return breaches


def answers_without_their_disclosure(checked: list[int]) -> list[str]:
    breaches = []
    disclosing = RightsCheck.objects.filter(outcome__in=DISCLOSING_OUTCOMES)
    checked[0] += disclosing.count()
    missing = list(disclosing.filter(disclosure__isnull=True).values_list("pk", flat=True))
    if missing:
        breaches.append(
            f"{len(missing)} réponse{plural(len(missing))} de l'API de vérification des droits "
            "sans communication "
            f"inscrite au registre (n° {_ids(missing)})",
        )
    mismatched = [
        pk
        for pk, subject, disclosed_subject, recipient in disclosing.filter(
            disclosure__isnull=False
        ).values_list("pk", "subject_id", "disclosure__subject_id", "disclosure__recipient")
        if subject != disclosed_subject or recipient != catalogue.HEALTH_PROFESSIONALS.code
    ]
    if mismatched:
        breaches.append(
            f"{len(mismatched)} réponse{plural(len(mismatched))} de l'API dont la communication "
            "ne désigne pas la même "
            f"personne ou pas les professionnels de santé (n° {_ids(mismatched)})",
        )
    sent = ExchangeLine.objects.filter(
        kind=LineKind.AFFILIATION,
        exchange__status__in=[ExchangeStatus.WRITTEN, ExchangeStatus.ACKNOWLEDGED],
        disclosure__isnull=True,
    )
    lines = list(sent.values_list("pk", flat=True)[: SHOWN + 1])
    if lines:
        breaches.append(
            f"{sent.count()} ligne{plural(sent.count())} de fichiers d'échange envoyés sans "
            "communication inscrite "
            f"au registre (n° {_ids(lines)})",
        )
    return breaches


@register(
    NAME, section="3", title="Chaque destinataire ne reçoit que ce que la déclaration accorde"
)
def recipients_get_only_what_the_declaration_grants(now: datetime.datetime) -> Finding:
    checked = [0]
    breaches = disclosures_beyond_the_declaration(checked)
    breaches += answers_without_their_disclosure(checked)
    return Finding(checked=checked[0], breaches=breaches)
