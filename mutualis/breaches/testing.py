"""A breach for tests of other apps (the security and accessibility suites)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from mutualis.breaches import services
from mutualis.breaches.models import Breach, Nature, Origin, Risk


def breach_values(**changes) -> dict:
    now = timezone.now()
    return {
        "title": "Envoi d'un courriel à de mauvais destinataires",
        "discovered_at": now - datetime.timedelta(hours=5),
        "started_at": now - datetime.timedelta(hours=6),
        "ended_at": None,
        "natures": [Nature.CONFIDENTIALITY],
        "origin": Origin.INTERNAL_ACCIDENTAL,
        "circumstances": "Un relevé de cotisations a été adressé à une liste erronée.",
        "data_categories": ["identity", "payment_terms"],
        "subject_groups": ["members"],
        "people_count": 40,
        "records_count": 40,
        "consequences": "Divulgation du montant des cotisations à d'autres adhérents.",
        "measures_taken": "Demande de suppression aux destinataires, liste corrigée.",
        "measures_planned": "Double contrôle des envois groupés.",
        "risk": Risk.RISK,
        **changes,
    }


def recorded_breach(*, actor, **changes) -> Breach:
    return services.record_breach(values=breach_values(**changes), actor=actor)
