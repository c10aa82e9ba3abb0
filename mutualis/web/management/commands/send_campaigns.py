"""Send the e-mail campaigns whose sending is open, and hand the postal campaigns whose hand-over
was asked for to the printer (periodic job, safe to run on several hosts). First, freeze the
audience of the campaigns whose sending was asked for with too many recipients to be frozen in
the request (:func:`mutualis.consent.campaigns.request_sending`).

Throttled, resumable after an interruption, retried; see :mod:`mutualis.consent.sending` and
:mod:`mutualis.consent.postal`. First, the claims that a dead run left on a campaign paused or
cancelled since are recovered (no row stays *claimed* for ever).
"""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mutualis.consent import campaigns as campaign_rules
from mutualis.consent import postal, sending
from mutualis.consent.models import Campaign, CampaignStatus, DeliveryStatus
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
        frozen = self._freeze_requested(options["campaign"])
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
        if not campaigns and not handovers and not frozen:
            self.stdout.write("Aucune campagne à envoyer.")
            return
        links = campaign_links()
        for campaign in campaigns:
            self._send(campaign, links, options)
        for campaign in handovers:
            self._hand_over(campaign)

    def _freeze_requested(self, value: str | None) -> list[Campaign]:
        """First, the audiences of the campaigns whose sending was asked for (too large to be
        frozen in the request): each computed now and written to its send log."""
        if value is None:
            frozen = campaign_rules.freeze_all_requested()
        else:
            found = campaign_rules.freeze_requested(self._one(value))
            frozen = [found] if found else []
        for campaign in frozen:
            if campaign.status == CampaignStatus.DRAFT:
                self.stdout.write(
                    f"« {campaign.title} » — personne ne peut plus la recevoir : l'envoi "
                    "demandé n'est pas parti, la campagne est revenue au brouillon."
                )
            else:
                self.stdout.write(
                    f"« {campaign.title} » — destinataires arrêtés : {campaign.recipients}."
                )
        return frozen

    def _one(self, value: str) -> Campaign:
        try:
            pk = uuid.UUID(value)
        except ValueError:
            raise CommandError(f"Identifiant de campagne invalide : {value!r}.") from None
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise CommandError("Aucune campagne ne porte cet identifiant.")
        return campaign

    def _campaigns(self, value: str | None) -> list[Campaign]:
        if value is None:
            return sending.due_campaigns()
        campaign = self._one(value)
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
