"""The complaints register for the ACPR (recommendation 2022-R-01), without NIR or IBAN."""

from __future__ import annotations

import csv
import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from mutualis.contact.models import Complaint
from mutualis.lib.french import plural

COLUMNS = [
    "reference",
    "recue_le",
    "accusee_le",
    "accuse_du_le",
    "repondue_le",
    "reponse_due_le",
    "canal",
    "reclamant",
    "produit",
    "motif",
    "issue",
    "mediation",
    "cause_premiere",
]


def _date(value: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} : date invalide {value!r} (format AAAA-MM-JJ).") from None


def _local(value) -> str:
    return timezone.localdate(value).isoformat() if value else ""


def rows(start: datetime.date, end: datetime.date):
    complaints = (
        Complaint.objects.filter(received_on__gte=start, received_on__lte=end)
        .select_related("inquiry")
        .order_by("received_on", "inquiry__reference")
    )
    for c in complaints:
        yield [
            c.inquiry.reference,
            c.received_on.isoformat(),
            _local(c.acknowledged_at),
            c.acknowledgement_due.isoformat(),
            _local(c.answered_at),
            c.answer_due.isoformat(),
            c.inquiry.get_channel_display(),
            c.get_complainant_type_display(),
            c.product,
            c.reason,
            c.get_outcome_display() if c.outcome else "",
            "oui" if c.mediation else "non",
            c.root_cause,
        ]


class Command(BaseCommand):
    help = "Registre des réclamations (ACPR 2022-R-01) sur une période, sans NIR ni IBAN."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="AAAA-MM-JJ")
        parser.add_argument("--to", dest="end", required=True, help="AAAA-MM-JJ")
        parser.add_argument(
            "--format",
            choices=["csv", "text"],
            default="text",
            help="présentation : text (par défaut, une ligne par réclamation) ou csv",
        )

    def handle(self, *args, **options) -> None:
        start = _date(options["start"], "--from")
        end = _date(options["end"], "--to")
        if end < start:
            raise CommandError("--to doit suivre --from.")
        if options["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows(start, end))
            return
        count = 0
        for row in rows(start, end):
            count += 1
            self.stdout.write(" | ".join(value or "—" for value in row))
        self.stdout.write(
            f"{count} réclamation{plural(count)} reçue{plural(count)} du {start:%d/%m/%Y} au "
            f"{end:%d/%m/%Y}."
        )
