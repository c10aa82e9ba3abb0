"""Print the API's OpenAPI schema, or write it to docs/partners_openapi.json (--write)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from mutualis.partners import openapi


class Command(BaseCommand):
    help = "Affiche le schéma OpenAPI de l'API, ou l'écrit dans docs/ (--write)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--write", action="store_true", help="écrire docs/partners_openapi.json"
        )

    def handle(self, *args, write: bool, **options) -> None:
        text = openapi.render()
        if write:
            openapi.COMMITTED.write_text(text, encoding="utf-8")
            self.stdout.write(f"Schéma écrit dans {openapi.COMMITTED}.")
        else:
            self.stdout.write(text, ending="")
