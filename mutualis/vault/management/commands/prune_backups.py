"""``manage.py prune_backups [DIR]``: delete the backups older than the declared retention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from mutualis.lib.cli import os_error
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand
from mutualis.privacy.catalogue import RETENTION_BACKUPS
from mutualis.vault import pruning


class Command(JobCommand):
    help = (
        "Supprime les sauvegardes (backup, backup_keys) plus anciennes que la durée de "
        f"conservation déclarée ({RETENTION_BACKUPS.label})."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            type=Path,
            help="dossier des sauvegardes (MUTUALIS_BACKUP_DIR par défaut)",
        )
        parser.add_argument("--dry-run", action="store_true", help="liste sans supprimer")

    def handle(self, *args: Any, directory: Path | None, dry_run: bool, **options: Any) -> None:
        directory = directory or (
            Path(settings.MUTUALIS_BACKUP_DIR) if settings.MUTUALIS_BACKUP_DIR else None
        )
        if directory is None:
            raise CommandError(
                "Indiquez le dossier des sauvegardes, ou renseignez MUTUALIS_BACKUP_DIR."
            )
        try:
            old = pruning.prune(directory, now=timezone.now(), dry_run=dry_run)
        except FileNotFoundError:
            raise CommandError(f"Dossier introuvable : {directory}") from None
        except OSError as exc:
            raise CommandError(f"Suppression impossible : {os_error(exc)}.") from None
        verb = "à supprimer" if dry_run else f"supprimée{plural(len(old))}"
        for backup in old:
            self.stdout.write(
                f"  {backup.path.name} ({timezone.localtime(backup.created_at):%d/%m/%Y})"
            )
        self.stdout.write(
            f"{len(old)} sauvegarde{plural(len(old))} {verb} "
            f"(conservation : {RETENTION_BACKUPS.label})."
        )
