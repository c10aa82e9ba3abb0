"""Sum the finished days' raw audience events into anonymous daily figures (periodic job)."""

from __future__ import annotations

from mutualis.audience.aggregation import aggregate_pending
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand


class Command(JobCommand):
    help = (
        "Agrège les événements bruts de mesure d'audience de chaque jour écoulé en statistiques "
        "anonymes (idempotent) ; les données brutes sont supprimées à 25 mois par "
        "enforce_retention."
    )

    def handle(self, *args, **options) -> None:
        days = aggregate_pending()
        if not days:
            self.stdout.write("Aucun jour à agréger.")
            return
        self.stdout.write(
            f"{len(days)} jour{plural(len(days))} agrégé{plural(len(days))}, "
            f"du {days[0]:%d/%m/%Y} au {days[-1]:%d/%m/%Y}."
        )
