"""``manage.py backup FILE``: the encrypted data backup, without the key store (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from mutualis.lib.jobs import JobCommand
from mutualis.vault.backup import BackupError, create_backup


class Command(JobCommand):
    help = (
        "Écrit une sauvegarde chiffrée de toutes les tables, sauf le magasin de clés (à "
        "sauvegarder à part avec backup_keys) et les sessions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Fichier à écrire (il ne doit pas exister).")

    def handle(self, *args: Any, file: Path, verbosity: int, **options: Any) -> None:
        progress = self.stdout.write if verbosity >= 2 else (lambda message: None)
        if verbosity >= 1:
            self.stdout.write(f"Sauvegarde des données vers {file}…")
        try:
            header = create_backup(file, progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(t["rows"] for t in header["tables"])
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Sauvegarde écrite : {len(header['tables'])} tables, {rows} lignes, "
                    f"empreinte {header['content_sha256']}, clé de sauvegarde "
                    f"{header['key_id']}."
                )
            )
            self.stdout.write(
                "Le magasin de clés n'y figure pas : lancez aussi `manage.py backup_keys` et "
                "conservez ce fichier ailleurs."
            )
