"""Send the e-mail campaigns whose sending is open, and hand the postal campaigns whose hand-over
was asked for to the printer (periodic job, safe to run on several hosts).

Throttled, resumable after an interruption, retried; see :mod:`mutualis.consent.sending` and
:mod:`mutualis.consent.postal`. First, the claims that a dead run left on a campaign paused or
cancelled since are recovered (no row stays *claimed* for ever).
"""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mutualis.consent import postal, sending
from mutualis.consent.models import Campaign, DeliveryStatus
from mutualis.lib.french import plural
from mutualis.lib.jobs import JobCommand
from mutualis.web.campaigns.links import campaign_links


class Command(JobCommand):
    help = (
        "Envoie les campagnes par courriel en cours d'envoi : débit limité, reprise après "
        "interruption sans double envoi, nouvelles tentatives en cas d'échec temporaire ; "
        "remet à l'imprimeur les campagnes par courrier dont la remise a été demandée."
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
        uncertain, released = sending.recover_abandoned()
        if uncertain or released:
            self.stdout.write(
                f"Campagnes suspendues ou annulées : {uncertain} envoi{plural(uncertain)} "
                f"non confirmé{plural(uncertain)}, {released} rendu{plural(released)} ou "
                f"annulé{plural(released)} après l'arrêt d'un envoi précédent."
            )
        handovers = self._handovers(options["campaign"])
        if not campaigns and not handovers:
            self.stdout.write("Aucune campagne à envoyer.")
            return
        links = campaign_links()
        for campaign in campaigns:
            self._send(campaign, links, options)
        for campaign in handovers:
            self._hand_over(campaign)

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

    def _handovers(self, value: str | None) -> list[Campaign]:
        found = postal.due_handovers()
        return found if value is None else [c for c in found if str(c.pk) == str(value)]

    def _hand_over(self, campaign: Campaign) -> None:
        left = campaign.deliveries.filter(status=DeliveryStatus.PENDING).count()
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task(campaign.title[:40], total=left)
            report = postal.hand_over(campaign, progress=lambda n: bar.advance(task, n))
        self.stdout.write(
            f"« {campaign.title} » — remis à l'imprimeur : {report.letters}, "
            f"non envoyé{plural(report.skipped)} : {report.skipped}."
        )

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
