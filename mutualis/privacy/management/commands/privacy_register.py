"""GDPR art. 30 register of processing activities, generated from the declaration."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis.privacy.policy import ProcessingEntry, processing_entries

CSV_COLUMNS = [
    "finalite",
    "section_politique",
    "base_legale",
    "categories_de_donnees",
    "categories_de_personnes",
    "destinataires",
    "transferts_hors_ue",
    "decisions_automatisees",
    "conservation",
    "fondement_conservation",
    "mesures_de_securite",
    "champs_declares",
]


def _fields(entry: ProcessingEntry) -> str:
    return ", ".join(
        f"{f.model}.{f.field}{' (chiffré)' if f.encrypted else ''}" for f in entry.fields
    )


def as_csv(entries: list[ProcessingEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.purpose.title,
                e.purpose.policy_section,
                e.legal_basis,
                " ; ".join(e.categories),
                " ; ".join(e.data_subjects),
                " ; ".join(e.recipients),
                e.transfers,
                e.automated_decision,
                e.retention,
                e.retention_source,
                " ; ".join(e.security_measures),
                _fields(e),
            ]
        )
    return out.getvalue()


def as_markdown(entries: list[ProcessingEntry]) -> str:
    org = settings.MUTUALIS_ORGANISATION
    lines = [
        "# Registre des activités de traitement (RGPD art. 30)",
        "",
        f"Responsable du traitement : {org['name']} (SIREN {org['siren']}), {org['address']}.  ",
        f"Délégué à la protection des données : {org['dpo_email']}.  ",
        f"Généré le {timezone.localdate():%d/%m/%Y} à partir de la déclaration.",
    ]
    for e in entries:
        lines += [
            "",
            f"## {e.purpose.title} (section {e.purpose.policy_section})",
            "",
            f"- **Base légale** : {e.legal_basis}",
            f"- **Catégories de données** : {', '.join(e.categories)}",
            f"- **Catégories de personnes** : {', '.join(e.data_subjects)}",
            f"- **Destinataires** : {', '.join(e.recipients)}",
            f"- **Transferts hors de l'Union européenne** : {e.transfers}",
            f"- **Décisions automatisées** : {e.automated_decision}",
            f"- **Conservation** : {e.retention} (fondement : {e.retention_source})",
            f"- **Mesures de sécurité** : {' ; '.join(e.security_measures)}",
            f"- **Champs déclarés** : {_fields(e) or 'aucun à ce jour'}",
        ]
    return "\n".join(lines) + "\n"


def as_html(entries: list[ProcessingEntry]) -> str:
    return render_to_string(
        "privacy/register.html",
        {
            "entries": entries,
            "organisation": settings.MUTUALIS_ORGANISATION,
            "today": timezone.localdate(),
        },
    )


class Command(BaseCommand):
    help = "Affiche le registre des traitements (RGPD art. 30) généré depuis la déclaration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=["md", "csv", "html"],
            default="md",
            help="présentation : md (Markdown, par défaut), csv ou html",
        )

    def handle(self, *args, **options) -> None:
        entries = processing_entries()
        render = {"md": as_markdown, "csv": as_csv, "html": as_html}[options["format"]]
        self.stdout.write(render(entries), ending="")
