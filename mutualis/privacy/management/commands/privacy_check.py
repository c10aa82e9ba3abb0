"""Check the live database against the policy's promises; exit non-zero listing each breach."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from mutualis.privacy import promises


class Command(BaseCommand):
    help = (
        "Vérifie la base contre les engagements de la politique (durées de conservation, "
        "effacements, délais des réclamations et des demandes) ; code de sortie non nul en cas "
        "de manquement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="date de référence AAAA-MM-JJ (aujourd'hui par défaut)")

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        if options["as_of"]:
            try:
                day = datetime.date.fromisoformat(options["as_of"])
            except ValueError:
                self.stderr.write(f"Date invalide : {options['as_of']!r} (AAAA-MM-JJ).")
                raise SystemExit(2) from None
            now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        breaches = promises.run(now)
        if not breaches:
            self.stdout.write("Aucun manquement : chaque engagement vérifiable est tenu.")
            return
        for breach in breaches:
            self.stdout.write(f"MANQUEMENT — {breach}")
        self.stdout.write(f"{len(breaches)} manquement(s).")
        raise SystemExit(1)
