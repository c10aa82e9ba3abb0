"""The register as CSV (GDPR art. 33(5)): every breach, notified or not, with its facts,
its 72-hour clock, its notification and the information of the people; the export is audited."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.breaches.clock import clock
from mutualis.breaches.models import Breach
from mutualis.breaches.tags import BreachTag


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else ""


CSV_COLUMNS = [
    ("Référence", lambda b, c: b.reference),
    ("Intitulé", lambda b, c: b.title),
    ("État", lambda b, c: b.get_status_display()),
    ("Prise de connaissance", lambda b, c: _iso(b.discovered_at)),
    ("Début", lambda b, c: _iso(b.started_at)),
    ("Fin", lambda b, c: _iso(b.ended_at)),
    ("Nature", lambda b, c: ", ".join(b.natures)),
    ("Origine", lambda b, c: b.get_origin_display()),
    ("Catégories de données", lambda b, c: ", ".join(b.data_categories)),
    ("Catégories de personnes", lambda b, c: ", ".join(b.subject_groups)),
    ("Personnes (environ)", lambda b, c: b.people_count if b.people_count is not None else ""),
    (
        "Enregistrements (environ)",
        lambda b, c: b.records_count if b.records_count is not None else "",
    ),
    ("Conséquences", lambda b, c: b.consequences),
    ("Mesures prises", lambda b, c: b.measures_taken),
    ("Mesures envisagées", lambda b, c: b.measures_planned),
    ("Risque", lambda b, c: b.get_risk_display()),
    ("Échéance des 72 heures", lambda b, c: _iso(c.deadline)),
    ("Notifiée à la CNIL le", lambda b, c: _iso(b.cnil_notified_at)),
    ("Numéro CNIL", lambda b, c: b.cnil_reference),
    ("Motif du retard", lambda b, c: b.late_reason),
    ("Information des personnes", lambda b, c: b.get_people_decision_display()),
    ("Motif de non-information", lambda b, c: b.get_not_inform_ground_display()),
    ("Personnes informées le", lambda b, c: _iso(b.people_informed_at)),
    ("Close le", lambda b, c: _iso(b.closed_at)),
]


def register_csv(*, actor) -> str:
    """The CSV text, semicolon-separated with a byte-order mark (spreadsheets open it as is)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([title for title, _ in CSV_COLUMNS])
    with transaction.atomic():
        breaches = list(Breach.objects.order_by("discovered_at"))
        for breach in breaches:
            current = clock(breach)
            writer.writerow([value(breach, current) for _, value in CSV_COLUMNS])
        audit.record(BreachTag.REGISTER_EXPORT, actor=actor, details={"rows": len(breaches)})
    return "\ufeff" + out.getvalue()
