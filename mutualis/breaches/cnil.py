"""The CNIL notification, drafted from the register's record: the sections and fields of the
CNIL's breach-notification form (the content GDPR art. 33(3) requires), filled in."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from mutualis.breaches.clock import NOTIFICATION_DELAY, clock
from mutualis.breaches.models import Breach, Nature, NotInformGround, Origin, PeopleDecision
from mutualis.privacy import catalogue

MISSING = "à compléter"


@dataclass(frozen=True)
class Section:
    title: str
    fields: list[tuple[str, str]]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y à %H:%M") if value else MISSING


def _labels(codes, choices) -> str:
    labels = dict(choices)
    return "; ".join(labels.get(code, code) for code in codes) or MISSING


def _number(value) -> str:
    return f"environ {value}" if value is not None else "inconnu à ce jour"


def draft(breach: Breach) -> list[Section]:
    organisation = settings.MUTUALIS_ORGANISATION
    categories = [(c.code, f"{c.label} ({c.examples})") for c in catalogue.ALL_CATEGORIES]
    groups = [(g.code, g.label) for g in catalogue.ALL_DATA_SUBJECT_GROUPS]
    elapsed = ""
    if breach.cnil_notified_at:
        hours = (breach.cnil_notified_at - breach.discovered_at).total_seconds() / 3600
        elapsed = f"{hours:.0f} heures après la prise de connaissance"
    late = (
        breach.cnil_notified_at
        and breach.cnil_notified_at - breach.discovered_at > NOTIFICATION_DELAY
    )
    current = clock(breach)
    people = [("Décision", breach.get_people_decision_display())]
    if breach.people_decision == PeopleDecision.NOT_INFORM:
        people.append(
            ("Motif", dict(NotInformGround.choices).get(breach.not_inform_ground, MISSING))
        )
    if breach.people_decision == PeopleDecision.INFORM:
        people.append(("Date de l'information", _when(breach.people_informed_at)))
        people.append(("Moyen", "courrier individuel (courriel ou voie postale)"))
    if breach.decision_note:
        people.append(("Justification", breach.decision_note))
    return [
        Section(
            "1. Type de notification",
            [
                (
                    "Notification",
                    "complète"
                    if breach.consequences and breach.measures_taken
                    else "initiale, à compléter",
                ),
                ("Référence interne", breach.reference),
                ("Numéro de notification CNIL", breach.cnil_reference or "attribué à l'envoi"),
            ],
        ),
        Section(
            "2. Organisme responsable du traitement",
            [
                ("Dénomination", organisation["name"]),
                ("SIREN", organisation["siren"]),
                ("Adresse", organisation["address"]),
                ("Délégué à la protection des données", organisation["dpo_email"]),
                ("Secteur", "assurance (mutuelle santé, code de la mutualité)"),
            ],
        ),
        Section(
            "3. Chronologie",
            [
                ("Début de la violation", _when(breach.started_at)),
                (
                    "Fin de la violation",
                    _when(breach.ended_at) if breach.ended_at else "en cours ou inconnue",
                ),
                ("Prise de connaissance", _when(breach.discovered_at)),
                ("Échéance des 72 heures", _when(current.deadline)),
                (
                    "Date de la notification",
                    _when(breach.cnil_notified_at) + (f" ({elapsed})" if elapsed else ""),
                ),
                ("Motif du retard", breach.late_reason or (MISSING if late else "sans objet")),
            ],
        ),
        Section(
            "4. Nature de la violation",
            [
                ("Nature", _labels(breach.natures, Nature.choices)),
                ("Origine", dict(Origin.choices).get(breach.origin, MISSING)),
                ("Circonstances", breach.circumstances or MISSING),
            ],
        ),
        Section(
            "5. Données et personnes concernées",
            [
                ("Catégories de données", _labels(breach.data_categories, categories)),
                ("Nombre approximatif d'enregistrements", _number(breach.records_count)),
                ("Catégories de personnes", _labels(breach.subject_groups, groups)),
                ("Nombre approximatif de personnes", _number(breach.people_count)),
            ],
        ),
        Section(
            "6. Conséquences probables pour les personnes",
            [("Conséquences", breach.consequences or MISSING)],
        ),
        Section(
            "7. Mesures",
            [
                (
                    "Mesures prises pour remédier à la violation et en atténuer les effets",
                    breach.measures_taken or MISSING,
                ),
                ("Mesures envisagées", breach.measures_planned or "aucune autre à ce jour"),
            ],
        ),
        Section("8. Information des personnes concernées (art. 34)", people),
    ]


def as_text(breach: Breach) -> str:
    lines = [f"Projet de notification à la CNIL — violation {breach.reference}", ""]
    for section in draft(breach):
        lines.append(section.title)
        lines += [f"  {label} : {value}" for label, value in section.fields]
        lines.append("")
    return "\n".join(lines)
