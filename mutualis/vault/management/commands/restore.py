"""``manage.py restore BACKUP KEYS --yes``: restore both files, then replay the erasure journal.

Without ``--yes`` the files are verified and nothing is written (docs/backup.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualis.lib.french import plural
from mutualis.vault.restore import BackupError, restore, verify


def _forgotten(count: int) -> str:
    """The people erased since the backup that the restore brought back, erased again."""
    if count > 1:
        return (
            f"{count} personnes effacées depuis la sauvegarde en sont revenues : elles sont de "
            "nouveau supprimées, avec leurs dossiers."
        )
    return (
        "1 personne effacée depuis la sauvegarde en est revenue : elle est de nouveau "
        "supprimée, avec son dossier."
    )


class Command(BaseCommand):
    help = (
        "Remplace tout le contenu de la base par une sauvegarde et son fichier de clés, puis "
        "rejoue le journal des effacements (une personne effacée depuis le reste). Sans --yes, "
        "vérifie seulement les fichiers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="Fichier écrit par `manage.py backup`.")
        parser.add_argument("keys", type=Path, help="Fichier écrit par `manage.py backup_keys`.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirmer : le contenu actuel de la base est remplacé.",
        )

    def handle(
        self, *args: Any, backup: Path, keys: Path, yes: bool, verbosity: int, **options: Any
    ) -> None:
        say = self.stdout.write if verbosity >= 1 else (lambda message: None)
        try:
            plan = verify(backup, keys, progress=say)
        except BackupError as exc:
            raise CommandError(f"{exc} Base inchangée.") from exc
        data, key_file = plan.data.header, plan.keys.header
        say(
            f"Sauvegarde du {data['created_at']} : {len(data['tables'])} tables, "
            f"{sum(t['rows'] for t in data['tables'])} lignes. Clés du {key_file['created_at']} : "
            f"{key_file['keys']} clés. Fichiers vérifiés."
        )
        for master_id, count in sorted(plan.unknown_masters.items()):
            self.stderr.write(
                self.style.WARNING(
                    f"{count} clés sont enveloppées par la clé maîtresse {master_id}, absente de "
                    "MUTUALIS_MASTER_KEY : leurs données resteront illisibles tant qu'elle n'y "
                    "est pas remise."
                )
            )
        if not yes:
            raise CommandError(
                "Restauration refusée sans --yes : elle remplace tout le contenu de la base. "
                "Arrêtez l'application, puis relancez avec --yes. Base inchangée."
            )
        try:
            report = restore(plan, progress=say)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        say(
            self.style.SUCCESS(
                f"Restauration terminée : {report['rows']} ligne{plural(report['rows'])} dans "
                f"{report['tables']} table{plural(report['tables'])}, {report['keys']} "
                f"clé{plural(report['keys'])}. Journal des effacements rejoué : "
                f"{report['journal']} effacement{plural(report['journal'])}, dont "
                f"{report['replayed']} clé{plural(report['replayed'])} "
                f"revenue{plural(report['replayed'])} intacte{plural(report['replayed'])} et "
                f"détruite{plural(report['replayed'])} à nouveau."
            )
        )
        if report["forgotten"]:
            say(_forgotten(report["forgotten"]))
        if report["previous_head_seq"] > report["restored_head_seq"]:
            say(
                f"Journal d'audit ramené à l'événement n° {report['restored_head_seq']} (il en "
                f"comptait {report['previous_head_seq']}) ; la restauration y est enregistrée."
            )
        say(
            "Ensuite : `manage.py enforce_retention` applique les règles de conservation échues "
            "depuis la sauvegarde."
        )
