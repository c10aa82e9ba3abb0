"""The affiliation exchange with the mandatory schemes (docs/scheme_exchange.md).

    manage.py scheme_exchange --out DIR [--organisation CODE] [--as-of AAAA-MM-JJ]
    manage.py scheme_exchange --import FILE [FILE …]
    manage.py scheme_exchange --simulate-ack FILE [--reject LIGNE:CODE …]   (DEBUG only)

``--out`` writes (or finishes) the day's file of every active scheme organisation, with a
progress bar per step (choosing the people, recording the disclosures); it is idempotent and
resumable. ``--import`` reads acknowledgement files.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand
from mutualis.recipients.exchange import acknowledgement, inbound, outbound
from mutualis.recipients.exchange.format import FormatError
from mutualis.recipients.models import Organisation, OrganisationKind


class _Bar:
    """One bar per step of an organisation's run (choosing the people, then the register)."""

    def __init__(self, bar: Progress, name: str) -> None:
        self.bar, self.name, self.task = bar, name, None

    def step(self, label: str, total: int | None) -> None:
        self.task = self.bar.add_task(f"{self.name} : {label}", total=total)

    def advance(self, count: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, count)


class Command(JobCommand):
    help = (
        "Échange d'affiliation avec les régimes obligatoires : fichier sortant par organisme "
        "(--out), import des accusés de réception (--import)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--out", metavar="DOSSIER", help="dossier où écrire les fichiers")
        action.add_argument(
            "--import", dest="imports", nargs="+", metavar="FICHIER", help="accusés à importer"
        )
        action.add_argument(
            "--simulate-ack",
            metavar="FICHIER",
            help="(développement) écrire l'accusé de réception d'un fichier sortant",
        )
        parser.add_argument("--organisation", metavar="CODE", help="un seul organisme (5 chiffres)")
        parser.add_argument("--as-of", help="situation au AAAA-MM-JJ (aujourd'hui par défaut)")
        parser.add_argument(
            "--reject", action="append", default=[], metavar="LIGNE:CODE", help="ligne rejetée"
        )

    def handle(self, *args, **options) -> None:
        if options["out"]:
            self._out(Path(options["out"]), options["organisation"], options["as_of"])
        elif options["imports"]:
            self._import([Path(p) for p in options["imports"]])
        else:
            self._simulate(Path(options["simulate_ack"]), options["reject"])

    def _out(self, directory: Path, code: str | None, as_of_text: str | None) -> None:
        as_of = timezone.localdate()
        if as_of_text:
            try:
                as_of = datetime.date.fromisoformat(as_of_text)
            except ValueError:
                raise CommandError(f"Date invalide : {as_of_text!r} (AAAA-MM-JJ).") from None
        organisations = Organisation.objects.filter(
            kind=OrganisationKind.SCHEME, is_active=True
        ).order_by("identifier")
        if code:
            organisations = organisations.filter(identifier=code)
            if not organisations.exists():
                raise CommandError(f"Aucun organisme de régime obligatoire actif de code {code}.")
        if not organisations.exists():
            self.stdout.write("Aucun organisme de régime obligatoire actif : aucun fichier.")
            return
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} personnes"),
            TimeElapsedColumn(),
            disable=not self.stdout.isatty(),
        ) as bar:
            for organisation in organisations:
                try:
                    result = outbound.run(
                        organisation,
                        as_of=as_of,
                        directory=directory,
                        progress=_Bar(bar, organisation.name),
                    )
                except outbound.ExchangeError as error:
                    raise CommandError(str(error)) from None
                self._report(organisation, result)

    def _report(self, organisation: Organisation, result: outbound.Outcome) -> None:
        for message in result.messages:
            self.stdout.write(f"{organisation.name} : {message}")
        if result.messages:
            return
        exchange = result.exchange
        self.stdout.write(
            f"{organisation.name} : {result.path} — {exchange.affiliations} "
            f"personne{plural(exchange.affiliations)}, "
            f"{exchange.notices} avis, empreinte SHA-256 {exchange.sha256}"
        )
        if result.skipped_restricted or result.skipped_unreadable:
            self.stdout.write(
                f"  écartées : {result.skipped_restricted} au traitement limité (RGPD art. 18), "
                f"{result.skipped_unreadable} sans NIR lisible"
            )

    def _import(self, paths: list[Path]) -> None:
        for path in paths:
            if not path.is_file():
                raise CommandError(f"Fichier introuvable : {path}")
            try:
                result = inbound.import_acknowledgement(path)
            except FormatError as error:
                raise CommandError(f"{path.name} : {error} Rien n'a été importé.") from None
            if result.already:
                self.stdout.write(f"{path.name} : déjà importé, rien à refaire.")
                continue
            self.stdout.write(
                f"{path.name} : fichier n° {result.exchange.sequence} — {result.accepted} "
                f"ligne{plural(result.accepted)} acceptée{plural(result.accepted)}, "
                f"{result.rejected} rejetée{plural(result.rejected)} (à traiter par le service "
                "gestion)."
            )

    def _simulate(self, path: Path, rejects: list[str]) -> None:
        if not settings.DEBUG:
            raise CommandError("--simulate-ack n'est disponible qu'en développement (DEBUG).")
        rejected = {}
        for item in rejects:
            line, _, code = item.partition(":")
            if not line.isdigit() or code not in acknowledgement.REJECT_CODES:
                raise CommandError(
                    f"Rejet invalide : {item!r} (LIGNE:CODE, codes "
                    f"{', '.join(acknowledgement.REJECT_CODES)})."
                )
            rejected[int(line)] = code
        destination = path.with_name(path.name.replace("MTLAFF", "MTLARL"))
        try:
            acknowledgement.acknowledge(path, destination, rejected=rejected)
        except (FormatError, OSError) as error:
            raise CommandError(f"{path} : {error}") from None
        self.stdout.write(f"Accusé de réception écrit : {destination}")
