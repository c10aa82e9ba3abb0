"""A new rate table (a yearly tariff change), from a CSV file (docs/billing.md, "Rates").

manage.py import_rates FICHIER.csv --from AAAA-MM-JJ
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.billing.tariffs import TariffError, import_table
from mutualis.lib.cli import iso_date, os_error
from mutualis.lib.french import plural


class Command(BaseCommand):
    help = (
        "Importe les tarifs d'une nouvelle période (par formule et tranche d'âge), applicables "
        "à partir d'une date future ; les échéances déjà calculées de cette période sont "
        "recalculées et annoncées aux adhérents."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FICHIER", help="offre;age_min;age_max;montant")
        parser.add_argument(
            "--from", dest="effective", required=True, metavar="AAAA-MM-JJ", help="date d'effet"
        )

    def handle(self, *args, **options) -> None:
        effective = iso_date(options["effective"], option="--from")
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(os_error(error)) from None
        try:
            changed = import_table(data, effective_from=effective)
        except TariffError as error:
            raise CommandError(f"{error} Rien n'a été importé.") from None
        self.stdout.write(
            f"Tarif au {effective:%d/%m/%Y} enregistré ; {changed} échéance{plural(changed)} "
            f"recalculée{plural(changed)}, annoncée{plural(changed)} aux adhérents par le "
            "prochain cycle des cotisations."
        )
