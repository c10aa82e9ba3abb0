"""``manage.py rotate_master_key``: re-wrap every data key under the current master key.

Rules: only keys that are not shredded and not yet under the current master key are touched;
each batch is one transaction (rows locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` where the
database supports it); a key is only re-written if it is still unshredded and still under the
same old master key (a concurrent shredding always wins). The filter on ``master_key_id`` makes
a rerun continue where an interrupted run stopped. The old master keys keep reading until the
run reports nothing left; then they can be removed from ``MUTUALIS_MASTER_KEY``.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mutualis.vault.exceptions import VaultError
from mutualis.vault.keys import master_key_ring
from mutualis.vault.models import DataKey
from mutualis.vault.services import rewrap


def pending_keys(current_id: str):
    return DataKey.objects.filter(wrapped_key__isnull=False).exclude(master_key_id=current_id)


def rewrap_batch(current_id: str, size: int) -> tuple[int, int]:
    """Re-wrap up to ``size`` keys in one transaction; returns (selected, re-wrapped)."""
    with transaction.atomic():
        batch = pending_keys(current_id).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            batch = batch.select_for_update(skip_locked=True)
        done = 0
        selected = list(batch[:size])
        for data_key in selected:
            old_master_id = data_key.master_key_id
            if not rewrap(data_key):
                continue
            done += DataKey.objects.filter(
                pk=data_key.pk, wrapped_key__isnull=False, master_key_id=old_master_id
            ).update(wrapped_key=data_key.wrapped_key, master_key_id=data_key.master_key_id)
    return len(selected), done


class Command(BaseCommand):
    help = (
        "Rechiffre toutes les clés de données sous la clé maîtresse courante (la première de "
        "MUTUALIS_MASTER_KEY). Relançable : reprend là où une exécution interrompue s'est "
        "arrêtée."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Nombre de clés par transaction (défaut : 1000).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="S'arrêter après ce nombre de clés (pour étaler la rotation).",
        )

    def handle(self, *args, batch_size: int, limit: int | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        if limit is not None and limit < 1:
            raise CommandError("--limit doit être un entier positif.")
        current_id = master_key_ring().current.id
        total = pending_keys(current_id).count()
        if limit is not None:
            total = min(total, limit)
        done = 0
        console = Console(file=getattr(self.stderr, "_out", sys.stderr))
        columns = (
            TextColumn("Rotation"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
            task = progress.add_task("rotation", total=total)
            while limit is None or done < limit:
                size = batch_size if limit is None else min(batch_size, limit - done)
                try:
                    selected, rewrapped = rewrap_batch(current_id, size)
                except VaultError as exc:
                    raise CommandError(f"{exc} ({done} clés rechiffrées avant l'arrêt).") from exc
                done += rewrapped
                progress.advance(task, rewrapped)
                if selected == 0:
                    break
        remaining = pending_keys(current_id).count()
        self.stdout.write(f"Clé maîtresse courante : {current_id}")
        self.stdout.write(f"Clés rechiffrées : {done}")
        self.stdout.write(f"Clés restant à rechiffrer : {remaining}")
        if remaining:
            self.stdout.write(
                self.style.WARNING(
                    "Rotation incomplète : relancez la commande. Ne retirez pas les anciennes "
                    "clés maîtresses avant qu'il ne reste aucune clé."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    "Rotation terminée : les anciennes clés maîtresses peuvent être retirées."
                )
            )
