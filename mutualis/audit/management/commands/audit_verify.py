"""``manage.py audit_verify``: check that the audit log was neither edited nor cut.

Read-only. Exits 0 and says how many events were checked when the chain is intact; otherwise exits
non-zero naming the first broken sequence number and what happened to it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import Progress

from mutualis.audit.verify import DEFAULT_CHUNK_SIZE, verify_chain
from mutualis.lib.french import plural


class Command(BaseCommand):
    help = "Vérifie l'intégrité du journal d'audit (chaînage SHA-256), sans rien écrire."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help="Nombre d'événements lus à la fois (mémoire constante).",
        )
        parser.add_argument("--database", default="default", help="Base de données à vérifier.")

    def handle(self, *args: Any, chunk_size: int, database: str, **options: Any) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size doit être un entier positif.")
        if self.stdout.isatty() and options["verbosity"] > 0:
            with Progress(transient=True) as bar:
                task = bar.add_task("Vérification du journal d'audit", total=None)
                result = verify_chain(
                    chunk_size=chunk_size,
                    using=database,
                    progress=lambda checked, total: bar.update(
                        task, completed=checked, total=total
                    ),
                )
        else:
            result = verify_chain(chunk_size=chunk_size, using=database)
        if result.first_break is not None:
            raise CommandError(
                f"Journal d'audit altéré : {result.first_break.reason}. "
                f"({result.checked} événement{plural(result.checked)} "
                f"vérifié{plural(result.checked)} avant.)"
            )
        waiting = f", dont {result.pending} en attente de placement" if result.pending else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Journal d'audit intègre : {result.checked} événement{plural(result.checked)} "
                f"vérifié{plural(result.checked)}{waiting}."
            )
        )
