"""Import the bank's reports on our direct debits: pain.002, camt.054, or CSV (docs/billing.md).

    manage.py import_sepa_returns FICHIER [FICHIER …]

Each file is applied whole or refused whole; a file imported twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.returns.parse import ReturnFileError
from mutualis.lib.cli import os_error
from mutualis.lib.french import plural


class Command(BaseCommand):
    help = (
        "Importe les rejets, retours et remboursements de prélèvements SEPA signalés par la "
        "banque (pain.002, camt.054 ou CSV)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FICHIER", help="fichiers de la banque")

    def handle(self, *args, **options) -> None:
        failed = False
        for name in options["files"]:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as error:
                raise CommandError(os_error(error)) from None
            try:
                outcome = import_bytes(data, file_name=path.name)
            except ReturnFileError as error:
                self.stderr.write(f"{path.name} : {error} Rien n'a été importé.")
                failed = True
                continue
            if outcome.already:
                self.stdout.write(f"{path.name} : déjà importé, rien à refaire.")
                continue
            n = outcome.applied
            line = (
                f"{path.name} ({outcome.file.kind}) : {n} retour{plural(n)} enregistré{plural(n)}"
            )
            if outcome.known:
                line += f", {outcome.known} déjà connu{plural(outcome.known)}"
            if outcome.mandates_ended:
                m = outcome.mandates_ended
                line += f", {m} mandat{plural(m)} clos"
            if outcome.late_refunds:
                line += f", {outcome.late_refunds} remboursement{plural(outcome.late_refunds)} "
                line += "hors délai à contester"
            if outcome.checked():
                line += f" ({outcome.checked()})"
            self.stdout.write(line + " ; à traiter par le service cotisations.")
        if failed:
            raise CommandError("Au moins un fichier a été refusé.")
