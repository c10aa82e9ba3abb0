"""Publish the privacy policy generated from the current declaration as a new dated version.

``--ship`` records it instead as the version shipped with the code (``privacy/shipped_policy``):
what a developer runs, and commits, when a change alters what the policy says.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from mutualis.privacy import policy, shipped_policy


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Date invalide : {value!r} (format attendu AAAA-MM-JJ).") from None


class Command(BaseCommand):
    help = (
        "Publie la politique de confidentialité générée depuis la déclaration. Sans changement "
        "depuis la dernière version, ne publie rien (idempotent). Avec --ship, enregistre le "
        "texte comme version livrée avec le code, sans toucher à la base."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            metavar="AAAA-MM-JJ",
            help="date d'effet (ou de la version livrée), aujourd'hui par défaut",
        )
        parser.add_argument(
            "--ship",
            action="store_true",
            help=(
                "enregistrer le texte généré comme version datée livrée avec le code "
                f"({shipped_policy.PATH.name}, à relire et committer avec le changement qui "
                "modifie la politique), sans toucher à la base"
            ),
        )

    def handle(self, *args, **options) -> None:
        effective = _date(options["date"]) if options["date"] else None
        if options["ship"]:
            self._ship(effective or timezone.localdate())
            return
        try:
            version, created = policy.publish(effective)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if created:
            self.stdout.write(f"Version du {version.effective_date:%d/%m/%Y} publiée.")
        else:
            self.stdout.write(
                f"Aucun changement : la version du {version.effective_date:%d/%m/%Y} reste en "
                "vigueur."
            )

    def _ship(self, day: datetime.date) -> None:
        try:
            version, written = shipped_policy.ship(day)
        except shipped_policy.ShipError as exc:
            raise CommandError(str(exc)) from None
        path = shipped_policy.PATH
        if written:
            self.stdout.write(
                f"Version livrée du {version.date:%d/%m/%Y} enregistrée dans {path} : relisez "
                "la différence (git diff) et committez ce fichier avec votre changement."
            )
        else:
            self.stdout.write(
                f"Aucun changement : la version livrée du {version.date:%d/%m/%Y} est à jour."
            )
