"""``manage.py backup_keys FILE``: the encrypted key-store backup, kept apart (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.lib.jobs import JobCommand
from mutualis.vault.backup import BackupError, create_key_backup


class Command(JobCommand):
    help = (
        "Écrit une sauvegarde chiffrée du magasin de clés (clés de données enveloppées) et du "
        "journal des effacements, à conserver à part de la sauvegarde des données."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Fichier à écrire (il ne doit pas exister).")

    def handle(self, *args: Any, file: Path, verbosity: int, **options: Any) -> None:
        if verbosity >= 1:
            self.stdout.write(f"Sauvegarde du magasin de clés vers {file}…")
        try:
            header = create_key_backup(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Magasin de clés sauvegardé : {header['keys']} clés dont "
                    f"{header['shredded']} détruites, {header['tables'][1]['rows']} effacements "
                    f"au journal, clé de sauvegarde {header['key_id']}."
                )
            )
