"""``manage.py import_members FILE.csv``: migrate members from the legacy system.

Rows are checked by the rules of the online form and written by batches, each row all or
nothing; rejected rows go to a report (line, column, reason; never a NIR nor an IBAN). Running
the same file again skips the rows already imported. See ``docs/import_members.md``.

Exit status: 0 when every row was imported or was already there; 3 when rows were rejected
(the summary is printed, the rows accepted stay imported and the rejected ones are in the
report, so a scheduled run is noticed); 1 when the file cannot be imported at all (unreadable,
wrong columns, no published privacy policy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mutualis.contracts.member_import.run import (
    DEFAULT_BATCH_SIZE,
    ImportFileError,
    ImportResult,
    import_members,
)
from mutualis.lib.french import plural


def default_report_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejets.csv")


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


class Command(BaseCommand):
    help = (
        "Importe des adhérents depuis un fichier CSV de l'ancien système (un adhérent par ligne, "
        "voir docs/import_members.md). Les lignes déjà importées sont ignorées. Code de sortie 3 "
        "quand des lignes sont rejetées (le rapport les liste)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Fichier CSV (UTF-8, séparateur ; ou ,).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Lignes écrites par transaction (défaut : {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--report",
            type=Path,
            help="Rapport des rejets (CSV). Défaut : <fichier>.rejets.csv à côté du fichier.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vérifie toutes les lignes et écrit le rapport, sans rien importer.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        report = options["report"] or default_report_path(path)
        dry_run: bool = options["dry_run"]
        show_bar = self.stdout.isatty() and options["verbosity"] > 0
        try:
            if show_bar:
                with Progress(
                    TextColumn("[progress.description]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    transient=True,
                ) as bar:
                    task = bar.add_task("Import des adhérents", total=None)
                    result = import_members(
                        path,
                        batch_size=batch_size,
                        report_path=report,
                        dry_run=dry_run,
                        on_start=lambda total: bar.update(task, total=total),
                        on_progress=lambda done: bar.advance(task, done),
                    )
            else:
                result = import_members(
                    path, batch_size=batch_size, report_path=report, dry_run=dry_run
                )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        self._summary(result, report)

    def _summary(self, result: ImportResult, report: Path) -> None:
        rate = result.rows / result.elapsed if result.elapsed else 0.0
        done = "à importer (simulation)" if result.dry_run else "importés"
        seconds = f"{result.elapsed:.1f}".replace(".", ",")
        lines = [
            f"{_number(result.rows)} lignes lues en {seconds} s ({_number(int(rate))} lignes/s).",
            f"  {done} : {_number(result.imported)}",
            f"  déjà importés : {_number(result.already_imported)}",
            f"  rejetés : {_number(result.rejected)}",
        ]
        if result.replayed_batches:
            lines.append(
                f"  lots refusés par la base et repris ligne à ligne : {result.replayed_batches}"
            )
        lines.append(f"Rapport des rejets : {report}")
        if result.dry_run:
            lines.append("Simulation : rien n'a été écrit dans la base.")
        style = self.style.SUCCESS if not result.rejected else self.style.WARNING
        self.stdout.write(style("\n".join(lines)))
        if result.rejected:
            # The rows accepted stay imported; the exit code tells a cron job to look at the report.
            raise CommandError(
                f"{_number(result.rejected)} ligne{plural(result.rejected)} "
                f"rejetée{plural(result.rejected)} : voir le rapport {report}.",
                returncode=3,
            )
