"""Close the requests answered long enough ago: their retention clock (5 years) starts.

An answered request stays open in the member space for a while, so the person can read the
answer and react; then it is closed. Idempotent and safe to rerun from cron: each request is
closed in its own transaction (with its audit event) and a closed one is never touched again.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand
from mutualis.rights import services
from mutualis.rights.models import RightsRequest, Status


class Command(JobCommand):
    help = "Clôt les demandes d'exercice de droits répondues depuis plus de N jours."

    def add_arguments(self, parser):
        parser.add_argument(
            "--after-days",
            type=int,
            default=60,
            help="jours écoulés depuis la réponse avant de clore la demande (60)",
        )
        parser.add_argument("--dry-run", action="store_true", help="compter sans clore")

    def handle(self, *args, after_days: int, dry_run: bool, **options):
        before = timezone.now() - datetime.timedelta(days=after_days)
        due = RightsRequest.objects.filter(
            status__in=[Status.ANSWERED, Status.REFUSED], answered_at__lt=before
        ).order_by("answered_at")
        count = 0
        for request in due.iterator():
            if not dry_run:
                services.close(request=request)
            count += 1
        if not count:
            self.stdout.write("Aucune demande à clore.")
        elif dry_run:
            self.stdout.write(f"{count} demande{plural(count)} à clore.")
        else:
            self.stdout.write(f"{count} demande{plural(count)} close{plural(count)}.")
