"""Check the live database against the policy's promises; exit non-zero on any breach.

One line per promise (identifier, what it promises, policy section, rows checked, breaches), then
each breach. ``--format json`` prints the same for monitoring. Breaches name records by id only.
"""

from __future__ import annotations

import datetime
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from mutualis.lib.french import plural
from mutualis.privacy import promises


def _as_of(value: str) -> datetime.datetime:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Date invalide : {value!r} (format attendu AAAA-MM-JJ).") from None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def table(results: list[promises.Result]) -> list[str]:
    """The results as a fixed-width table, then each breach under its promise."""
    header = ("Promesse", "Section", "Vérifiés", "Manquements")
    rows = [
        (
            f"{r.promise.code} {r.promise.title}",
            r.promise.section,
            str(r.checked),
            str(len(r.breaches)),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(cells) -> str:
        left = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:2]))
        right = "  ".join(cell.rjust(widths[i + 2]) for i, cell in enumerate(cells[2:]))
        return f"{left}  {right}"

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in rows]
    for result in results:
        for breach in result.breaches:
            lines.append(f"MANQUEMENT {result.promise.code} — {breach}")
    return lines


class Command(BaseCommand):
    help = (
        "Vérifie la base contre chaque engagement vérifiable de la politique de "
        "confidentialité (T1 à T12) ; code de sortie non nul en cas de manquement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", metavar="AAAA-MM-JJ", help="date de référence (aujourd'hui par défaut)"
        )
        parser.add_argument(
            "--format",
            choices=["table", "json"],
            default="table",
            help="présentation : table (par défaut) ou json (pour la supervision)",
        )
        parser.add_argument(
            "--only",
            action="append",
            metavar="T<n>",
            help="ne vérifier que cette promesse (à répéter pour en vérifier plusieurs)",
        )

    def handle(self, *args, **options) -> None:
        now = _as_of(options["as_of"]) if options["as_of"] else timezone.now()
        only = options["only"]
        if only:
            known = {p.code for p in promises.registered()}
            unknown = sorted(set(only) - known)
            if unknown:
                raise CommandError(
                    f"Promesse inconnue : {', '.join(unknown)} (connues : "
                    f"{', '.join(p.code for p in promises.registered())})."
                )
        results = promises.run(now, only=only)
        total = sum(len(r.breaches) for r in results)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "as_of": now.isoformat(),
                        "ok": total == 0,
                        "breaches": total,
                        "promises": [r.as_dict() for r in results],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            for text in table(results):
                self.stdout.write(text)
            if total:
                self.stdout.write(f"{total} manquement{plural(total)}.")
            else:
                self.stdout.write("Aucun manquement : chaque engagement vérifiable est tenu.")
        if total:
            raise SystemExit(1)
