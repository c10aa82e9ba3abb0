"""``manage.py audit_sequence``: place the audit events written since the last run in the chain.

Run it as a service (``--follow``: it places events as they arrive, polling when idle) and, as a
safety net, from a timer. Safe on several hosts at once: one of them holds the chain head for a
batch, the others find it busy and leave the work to it.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connections

from mutualis.audit.sequencer import DEFAULT_BATCH_SIZE, FOLLOW_PAUSE, sequence
from mutualis.lib.french import plural


class Command(BaseCommand):
    help = "Place dans la chaîne d'audit les événements écrits depuis le dernier passage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="Événements placés par transaction.",
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="Ne s'arrête pas : place les événements au fil de l'eau (service).",
        )
        parser.add_argument(
            "--idle-seconds",
            type=float,
            default=FOLLOW_PAUSE,
            help="Avec --follow, pause après un passage qui n'a pas rempli un lot : le suivant "
            "place d'un coup ce qui est arrivé entre-temps.",
        )

    def handle(self, *args: Any, batch_size: int, follow: bool, idle_seconds: float, **options):
        if batch_size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        if idle_seconds < 0:
            raise CommandError("--idle-seconds ne peut pas être négatif.")
        total = 0
        try:
            while True:
                try:
                    placed = sequence(batch_size=batch_size)
                except (OperationalError, InterfaceError) as exc:
                    if not follow:
                        raise CommandError(f"Base de données indisponible : {exc}") from None
                    # A service outlives a database restart: reconnect on the next pass.
                    self.stderr.write(f"Base de données indisponible, nouvel essai : {exc}")
                    connections.close_all()
                    time.sleep(max(idle_seconds, 1.0))
                    continue
                total += placed
                # A full batch means a backlog: the next one at once. Run once, go on until
                # nothing is left (a last pass may still raise the watermark).
                if placed >= batch_size or (placed and not follow):
                    continue
                if not follow:
                    break
                time.sleep(idle_seconds)
        except KeyboardInterrupt:
            pass
        if options["verbosity"] > 0:
            self.stdout.write(
                f"{total} événement{plural(total)} placé{plural(total)} dans la chaîne d'audit."
            )
