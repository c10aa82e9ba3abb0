"""``manage.py generate_members --members N``: realistic members in bulk, for development and
benchmarks only (refused on a production configuration unless ``--force``)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import Progress

from mutualis.generate import generate
from mutualis.lib.french import plural

MAX_MEMBERS = 10_000_000


class Command(BaseCommand):
    help = (
        "Ajoute des adhérents fictifs réalistes (bénéficiaires, contrats, mandats, échanges, "
        "consentements, demandes de droits, journal d'audit), chiffrés comme en production. "
        "Développement et mesures de performance seulement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, required=True, help="Nombre d'adhérents.")
        parser.add_argument("--seed", type=int, default=20261120, help="Graine du hasard.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Accepter de fonctionner sans DEBUG (base de mesure, jamais la production).",
        )

    def handle(self, *args: Any, members: int, seed: int, force: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusé : DEBUG est désactivé, cette base peut être celle de la production. "
                "Ces adhérents sont fictifs ; pour une base de mesure, relancez avec --force."
            )
        if not 1 <= members <= MAX_MEMBERS:
            raise CommandError(
                f"--members doit être compris entre 1 et {MAX_MEMBERS:,}.".replace(",", " ")
            )
        began = time.perf_counter()
        show = self.stdout.isatty() and options["verbosity"] > 0
        with Progress(transient=True, disable=not show) as bar:
            task = bar.add_task("Adhérents générés", total=members)
            counts = generate(
                members, seed=seed, progress=lambda done: bar.update(task, completed=done)
            )
        if options["verbosity"] > 0:
            self.stdout.write(
                f"{members} adhérent{plural(members)} généré{plural(members)} "
                f"en {time.perf_counter() - began:.0f} s :"
            )
            for table, count in sorted(counts.items()):
                self.stdout.write(f"  {table:40} {count:>10}")
