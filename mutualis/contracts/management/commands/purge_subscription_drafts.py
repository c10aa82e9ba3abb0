"""Delete the online-subscription drafts past their expiry and shred their keys.

Idempotent and safe to run from cron on several hosts (rows are locked with ``skip_locked``).
"""

from __future__ import annotations

from mutualis.contracts import drafts
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand


class Command(JobCommand):
    help = "Supprime les adhésions en ligne expirées et détruit leurs clés de chiffrement."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="adhésions traitées par lot (500)"
        )

    def handle(self, *args, batch_size: int, **options) -> None:
        purged = drafts.purge_expired(batch_size=max(1, batch_size))
        s = plural(purged)
        self.stdout.write(f"{purged} adhésion{s} en ligne expirée{s} supprimée{s}.")
