"""Publish the terms of use (CGU) of the member space as a new dated version, if they changed."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.contracts import terms


class Command(BaseCommand):
    help = (
        "Publie les conditions générales d'utilisation de l'espace adhérent comme nouvelle "
        "version datée ; sans changement depuis la dernière version, ne publie rien. Les "
        "adhérents acceptent la nouvelle version à leur prochaine connexion."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="date d'effet (AAAA-MM-JJ), aujourd'hui par défaut")

    def handle(self, *args, **options) -> None:
        effective = None
        if options["date"]:
            try:
                effective = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"Date invalide : {options['date']!r} (format attendu AAAA-MM-JJ)."
                ) from None
        try:
            version, created = terms.publish_cgu(effective)
        except terms.TermsError as exc:
            raise CommandError(str(exc)) from None
        if created:
            self.stdout.write(
                f"Conditions générales du {version.effective_date:%d/%m/%Y} publiées."
            )
        else:
            self.stdout.write(
                f"Aucun changement : les conditions du {version.effective_date:%d/%m/%Y} restent "
                "en vigueur."
            )
