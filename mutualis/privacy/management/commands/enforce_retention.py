"""Apply the declaration's retention rules: archive, then delete or anonymise (architecture §6)."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

from django.apps import apps
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from mutualis import audit
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand
from mutualis.privacy import retention
from mutualis.privacy.models import RetentionRun

STAGE_LABELS = {
    retention.Stage.ARCHIVE: "archivage",
    retention.Stage.END: "fin de conservation",
    retention.Stage.PEOPLE: "effacement des personnes",
}


class Command(JobCommand):
    help = (
        "Applique les règles de conservation de la déclaration, par lots (idempotent, "
        "interruptible, relançable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="compter sans rien modifier")
        parser.add_argument("--only", metavar="APP", help="une seule application (ex. contact)")
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="lignes du premier lot (5000)"
        )
        parser.add_argument(
            "--batch-seconds",
            type=float,
            help="durée visée d'un lot, la taille s'y adapte : 1 s sous PostgreSQL, 3 s sous "
            "SQLite ; 0 = taille fixe",
        )
        parser.add_argument("--as-of", help="date de référence AAAA-MM-JJ (aujourd'hui par défaut)")
        parser.add_argument("--report", help="écrire le rapport JSON dans ce fichier")

    def handle(self, *args, **options) -> None:
        only = options["only"]
        if only and only not in {a.label for a in apps.get_app_configs()}:
            raise CommandError(f"Application inconnue : {only!r}.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        seconds = options["batch_seconds"]
        if seconds is None:
            seconds = retention.default_batch_seconds()
        if not math.isfinite(seconds) or seconds < 0:
            raise CommandError("--batch-seconds doit être un nombre positif ou nul.")
        now = timezone.now()
        if options["as_of"]:
            try:
                day = datetime.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"Date invalide : {options['as_of']!r} (AAAA-MM-JJ).") from None
            now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        run = RetentionRun.objects.create(
            as_of=now, dry_run=options["dry_run"], only_app=only or ""
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} lignes"),
            TimeElapsedColumn(),
            disable=not self.stdout.isatty(),
        ) as bar:
            task = bar.add_task("Conservation", total=None)
            report = retention.enforce(
                now=now,
                only_app=only,
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                batch_seconds=seconds or None,
                progress=lambda n: bar.advance(task, n),
            )
        run.report = report.as_list()
        run.finished_at = timezone.now()
        with transaction.atomic():
            run.save(update_fields=["report", "finished_at"])
            if not options["dry_run"]:
                audit.record(
                    retention.RetentionTag.RUN,
                    target=run,
                    details={"rows": report.total, "only": only or "", "as_of": now.isoformat()},
                )
        s = plural(report.total)
        verb = f"seraient traitée{s}" if options["dry_run"] else f"traitée{s}"
        for step in report.steps:
            if step.rows:
                self.stdout.write(
                    f"{step.model:<28} {STAGE_LABELS[step.stage]:<26} {step.rows:>9} "
                    f"ligne{plural(step.rows)} en {step.batches} lot{plural(step.batches)}"
                )
        self.stdout.write(f"Total : {report.total} ligne{s} {verb} (au {now:%d/%m/%Y}).")
        if options["report"]:
            Path(options["report"]).write_text(
                json.dumps(
                    {"as_of": now.isoformat(), "dry_run": options["dry_run"], "steps": run.report},
                    ensure_ascii=False,
                    indent=2,
                )
            )
