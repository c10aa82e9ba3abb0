"""Publish the privacy policy generated from the current declaration as a new dated version."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.privacy import policy


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Date invalide : {value!r} (format attendu AAAA-MM-JJ).") from None


class Command(BaseCommand):
    help = (
        "Publie la politique de confidentialité générée depuis la déclaration. Sans changement "
        "depuis la dernière version, ne publie rien (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="date d'effet (AAAA-MM-JJ), aujourd'hui par défaut")

    def handle(self, *args, **options) -> None:
        effective = _date(options["date"]) if options["date"] else None
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
