"""The daily run of the collection cycle (docs/billing.md): schedules, premiums due, lapsed
mandates, pre-notifications, unpaid premiums.

    manage.py billing_cycle [--date AAAA-MM-JJ]
"""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mutualis.billing import cycle
from mutualis.lib.cli import iso_date
from mutualis.lib.french import plural, typography
from mutualis.lib.jobs import JobCommand


class Command(JobCommand):
    help = (
        "Cycle quotidien des cotisations : échéanciers, cotisations échues, mandats caducs, "
        "pré-notifications des prélèvements, impayés (C. mutualité L221-7)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", metavar="AAAA-MM-JJ", help="jour du cycle (aujourd'hui par défaut)"
        )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        if options["date"]:
            today = iso_date(options["date"])
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed}"),
        )
        with Progress(*columns, TimeElapsedColumn(), disable=not self.stdout.isatty()) as bar:

            def step(label: str, total: int | None):
                task = bar.add_task(label, total=total)
                return lambda n: bar.advance(task, n)

            report = cycle.run(today=today, step=step)
        d = report.dunning
        lines = [
            f"Cycle des cotisations du {today:%d/%m/%Y}",
            _count(report.instalments, "échéance créée", "échéances créées")
            + f" ({_count(report.schedules, 'contrat', 'contrats')})",
            _count(report.tariff_notices, "avis de tarif envoyé", "avis de tarif envoyés"),
            _count(
                report.premiums_posted,
                "cotisation échue comptabilisée",
                "cotisations échues comptabilisées",
            ),
            _count(report.lapsed, "mandat devenu caduc", "mandats devenus caducs"),
            _count(report.prenotified, "pré-notification", "pré-notifications"),
            _count(
                report.to_post,
                "courriel d'avis refusé par le serveur de messagerie ou mal adressé (avis à "
                "poster)",
                "courriels d'avis refusés par le serveur de messagerie ou mal adressés (avis à "
                "poster)",
            ),
            "Impayés : "
            + ", ".join(
                [
                    _count(d.opened, "dossier ouvert", "dossiers ouverts"),
                    _count(d.notices, "mise en demeure", "mises en demeure"),
                    _count(d.suspended, "suspension", "suspensions"),
                    _count(d.settled, "dossier soldé", "dossiers soldés"),
                    _count(d.restored, "garantie rétablie", "garanties rétablies"),
                    _count(len(d.to_terminate), "résiliation possible", "résiliations possibles"),
                ]
            ),
        ]
        self.stdout.write("\n".join(lines))
        if report.unsent:
            n = report.unsent
            raise CommandError(
                typography(
                    f"{_count(n, 'courriel', 'courriels')} d'avis de prélèvement non envoyé"
                    f"{plural(n)} (le serveur de messagerie a cessé de répondre ou refusé la "
                    "plupart des courriels à la fois, ou l'adresse d'expédition est incorrecte) : "
                    f"{'leurs' if n > 1 else 'ses'} avis ne comptent pas comme envoyés et "
                    "repartent au prochain cycle. Vérifiez le serveur de messagerie (journal "
                    "d'audit : billing:prenotification:unsent)."
                )
            )


def _count(n: int, singular: str, plural_form: str) -> str:
    return f"{n} {plural_form if plural(n) else singular}"
