"""The direct debits of one collection date as one pain.008 file (docs/billing.md).

    manage.py sepa_batch --collection-date AAAA-MM-JJ [--format pain.008.001.02] [--out DOSSIER]
    manage.py sepa_batch --next

Idempotent and resumable: a rerun for the same date writes the same file and debits nobody
twice; killed at any point, the next run ends the work.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mutualis.billing.models import BatchFormat
from mutualis.billing.sepa import document, run
from mutualis.billing.sepa.build import BatchError
from mutualis.lib.cli import iso_date
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand


class Command(JobCommand):
    help = (
        "Prépare, écrit (fichier pain.008 validé par son schéma XSD) et transmet la remise des "
        "prélèvements SEPA d'une date d'échéance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--collection-date", metavar="AAAA-MM-JJ", help="date de prélèvement")
        when.add_argument(
            "--next",
            action="store_true",
            help="la prochaine date de prélèvement, si elle tombe dans les "
            f"{settings.MUTUALIS_SEPA_SUBMIT_DAYS} jours",
        )
        parser.add_argument(
            "--format",
            choices=[choice.value for choice in BatchFormat],
            default=BatchFormat.V08.value,
            help="version du message (pain.008.001.08 par défaut)",
        )
        parser.add_argument(
            "--out", metavar="DOSSIER", help="dossier des fichiers (MUTUALIS_SEPA_OUT_DIR)"
        )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        if options["next"]:
            day = run.next_date(today, settings.MUTUALIS_SEPA_SUBMIT_DAYS)
            if day is None:
                self.stdout.write(
                    f"Aucune date de prélèvement dans les {settings.MUTUALIS_SEPA_SUBMIT_DAYS} "
                    "prochains jours : rien à faire."
                )
                return
        else:
            day = iso_date(options["collection_date"], option="--collection-date")
        directory = Path(options["out"] or settings.MUTUALIS_SEPA_OUT_DIR)
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, disable=not self.stdout.isatty()) as bar:

            def progress(label: str, total: int | None):
                task = bar.add_task(label, total=total)
                return lambda n: bar.advance(task, n)

            try:
                outcome = run.run(
                    collection_date=day,
                    schema=options["format"],
                    directory=directory,
                    today=today,
                    progress=progress,
                )
            except (BatchError, document.InvalidDocument) as error:
                raise CommandError(f"Remise du {day:%d/%m/%Y} : {error}") from None
        self._report(day, outcome)

    def _report(self, day: datetime.date, outcome: run.Outcome) -> None:
        batch = outcome.batch
        if outcome.path is None:
            self.stdout.write(
                f"Remise du {day:%d/%m/%Y} : aucun prélèvement à présenter (aucun montant annoncé "
                "dans les délais ne correspond à des cotisations dues)."
            )
        else:
            done = "déjà transmise, fichier vérifié" if outcome.already_released else "transmise"
            self.stdout.write(
                f"Remise du {day:%d/%m/%Y} {done} : {batch.debit_count} prélèvement"
                f"{plural(batch.debit_count)}, {batch.total} €, format {batch.format}"
                f"\nFichier : {outcome.path}\nEmpreinte SHA-256 : {outcome.sha256}"
            )
        if outcome.built.mismatched:
            n = outcome.built.mismatched
            self.stdout.write(
                f"{n} mandat{plural(n)} reporté{plural(n)} : les cotisations dues diffèrent du "
                "montant annoncé ; la prochaine pré-notification les annoncera."
            )
