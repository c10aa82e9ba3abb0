"""Send the e-mail campaigns whose sending is open (periodic job, safe to run on several hosts).

Throttled, resumable after an interruption, retried; see :mod:`mutualis.consent.sending`.
"""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mutualis.consent import sending
from mutualis.consent.models import Campaign, DeliveryStatus
from mutualis.lib.jobs import JobCommand
from mutualis.web.campaigns.links import campaign_links


class Command(JobCommand):
    help = (
        "Envoie les campagnes par courriel en cours d'envoi : débit limité, reprise après "
        "interruption sans double envoi, nouvelles tentatives en cas d'échec temporaire."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", help="identifiant d'une seule campagne")
        parser.add_argument("--batch-size", type=int, help="destinataires pris en charge par lot")
        parser.add_argument(
            "--rate", type=float, help="messages par seconde au plus (0 : sans limite)"
        )

    def handle(self, *args, **options) -> None:
        campaigns = self._campaigns(options["campaign"])
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        if options["rate"] is not None and options["rate"] < 0:
            raise CommandError("--rate ne peut pas être négatif.")
        if not campaigns:
            self.stdout.write("Aucune campagne à envoyer.")
            return
        links = campaign_links()
        for campaign in campaigns:
            self._send(campaign, links, options)

    def _campaigns(self, value: str | None) -> list[Campaign]:
        if value is None:
            return sending.due_campaigns()
        try:
            pk = uuid.UUID(value)
        except ValueError:
            raise CommandError(f"Identifiant de campagne invalide : {value!r}.") from None
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise CommandError("Aucune campagne ne porte cet identifiant.")
        return [c for c in sending.due_campaigns() if c.pk == campaign.pk]

    def _send(self, campaign: Campaign, links, options) -> None:
        left = campaign.deliveries.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED]
        ).count()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task(campaign.title[:40], total=left)
            report = sending.send_campaign(
                campaign=campaign,
                links=links,
                batch_size=options["batch_size"],
                rate=options["rate"],
                progress=lambda n: bar.advance(task, n),
            )
        counts = ", ".join(
            f"{DeliveryStatus(status).label.lower()} : {n}"
            for status, n in sorted(report.counts.items())
            if n
        )
        self.stdout.write(f"« {campaign.title} » — {counts or 'rien à envoyer'}.")
        if report.stopped == sending.CONNECTION:
            self.stderr.write(
                "Le serveur de messagerie ne répond pas : les envois restants seront retentés."
            )
