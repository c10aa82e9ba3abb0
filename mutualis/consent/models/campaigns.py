"""Campaigns of the communication service and their send log (policy section 1-C).

- :class:`Campaign`: what is sent (kind, channel, subject, text in numbered revisions) and where
  its sending stands. Its audience is not stored while it is a draft: it is computed from the
  consents, objections, restrictions and deaths at the moment it is sent.
- :class:`Delivery`: the send log, one row per recipient, frozen when the sending starts: who,
  which revision of the text, the consent relied on, when it left, and the outcome. It is the
  proof that every recipient had agreed (``privacy_check`` T8), and the work list a resumed
  sending picks up from.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mutualis.consent.models.choices import Channel, Topic


class CampaignKind(models.TextChoices):
    SERVICE = "service", "Information de service"
    NEWSLETTER = "newsletter", "Lettre d'information"
    OFFERS = "offers", "Offres"
    SURVEYS = "surveys", "Enquête de satisfaction"


# The consent topic a kind of campaign needs. Service information (about the member's own
# contract) rests on the contract, not on a consent: it has none.
KIND_TOPIC: dict[str, str | None] = {
    CampaignKind.SERVICE: None,
    CampaignKind.NEWSLETTER: Topic.NEWSLETTER,
    CampaignKind.OFFERS: Topic.OFFERS,
    CampaignKind.SURVEYS: Topic.SURVEYS,
}
# The channels a campaign can go out on.
CAMPAIGN_CHANNELS = (Channel.EMAIL, Channel.POST)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    # Asked for, the audience too large to be frozen in the request: the periodic job does it.
    PREPARING = "preparing", "Envoi demandé"
    SENDING = "sending", "Envoi en cours"
    PAUSED = "paused", "Envoi suspendu"
    SENT = "sent", "Envoyée"
    CANCELLED = "cancelled", "Annulée"


CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.DRAFT: frozenset(
        {CampaignStatus.PREPARING, CampaignStatus.SENDING, CampaignStatus.CANCELLED}
    ),
    # Back to a draft when the job finds nobody left to receive it.
    CampaignStatus.PREPARING: frozenset(
        {CampaignStatus.SENDING, CampaignStatus.DRAFT, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.SENDING: frozenset(
        {CampaignStatus.PAUSED, CampaignStatus.SENT, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.PAUSED: frozenset({CampaignStatus.SENDING, CampaignStatus.CANCELLED}),
    CampaignStatus.SENT: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField("nom interne", max_length=150)
    kind = models.CharField("nature", max_length=20, choices=CampaignKind.choices)
    channel = models.CharField(
        "canal", max_length=10, choices=[(c.value, c.label) for c in CAMPAIGN_CHANNELS]
    )
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("texte")
    revision = models.PositiveIntegerField("révision du texte", default=1)
    content_hash = models.CharField("empreinte du texte envoyé", max_length=64, blank=True)
    status = models.CharField(
        "état", max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    created_by = models.CharField("créée par", max_length=100)
    updated_at = models.DateTimeField("modifiée le", default=timezone.now)
    # The sending asked for by staff, for the periodic job to freeze the audience (see
    # mutualis.consent.campaigns.request_sending); kept after, as the record of who asked.
    send_requested_at = models.DateTimeField("envoi demandé le", null=True, blank=True)
    send_requested_by = models.CharField("envoi demandé par", max_length=100, blank=True)
    frozen_at = models.DateTimeField("envoi lancé le", null=True, blank=True)
    frozen_by = models.CharField("envoi lancé par", max_length=100, blank=True)
    finished_at = models.DateTimeField("envoi terminé le", null=True, blank=True)
    recipients = models.PositiveIntegerField("destinataires retenus", default=0)
    # A postal campaign is handed to the printer by the periodic job once staff asked for it
    # (each recipient checked again, each disclosure registered: too long for a web request).
    printer_requested_at = models.DateTimeField("remise à l'imprimeur demandée le", null=True)
    printer_requested_by = models.CharField(
        "remise à l'imprimeur demandée par", max_length=100, blank=True
    )

    class Meta:
        verbose_name = "campagne"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def topic(self) -> str | None:
        return KIND_TOPIC[self.kind]

    @property
    def is_editable(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    def can_become(self, status: str) -> bool:
        return status in CAMPAIGN_TRANSITIONS[self.status]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "À envoyer"
    CLAIMED = "claimed", "En cours d'envoi"
    SENT = "sent", "Envoyé"
    EXPORTED = "exported", "Remis à l'imprimeur"
    FAILED = "failed", "Échec"
    SKIPPED = "skipped", "Non envoyé (plus autorisé au moment de l'envoi)"
    UNCERTAIN = "uncertain", "Envoi non confirmé"
    CANCELLED = "cancelled", "Annulé"


# Where a row goes from each state. A claimed row is never put back to "pending" once its message
# may have left: an interrupted send becomes "uncertain", never a second message.
DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.PENDING: frozenset(
        {
            DeliveryStatus.CLAIMED,
            DeliveryStatus.EXPORTED,
            DeliveryStatus.SKIPPED,
            DeliveryStatus.CANCELLED,
        }
    ),
    DeliveryStatus.CLAIMED: frozenset(
        {
            DeliveryStatus.SENT,
            # A temporary failure before the message could leave, or a pause before it started.
            DeliveryStatus.PENDING,
            DeliveryStatus.FAILED,
            DeliveryStatus.UNCERTAIN,
            DeliveryStatus.SKIPPED,  # restricted (GDPR art. 18) between the claim and the message
            DeliveryStatus.CANCELLED,  # the campaign was cancelled before the message started
        }
    ),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.EXPORTED: frozenset(),
    DeliveryStatus.FAILED: frozenset(),
    DeliveryStatus.SKIPPED: frozenset(),
    DeliveryStatus.UNCERTAIN: frozenset(),
    DeliveryStatus.CANCELLED: frozenset(),
}
# The states a recipient has been reached in (for the proof and the counts).
REACHED = frozenset({DeliveryStatus.SENT, DeliveryStatus.EXPORTED})
OPEN = frozenset({DeliveryStatus.PENDING, DeliveryStatus.CLAIMED})


class Delivery(models.Model):
    """One recipient of one campaign: the send log row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="deliveries", verbose_name="campagne"
    )
    person = models.ForeignKey(
        "members.Person", on_delete=models.CASCADE, related_name="campaign_deliveries"
    )
    revision = models.PositiveIntegerField("révision du texte envoyé")
    # The grant in force when the audience was frozen (none for service information).
    consent_event = models.ForeignKey(
        "consent.ConsentEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="accord sur lequel repose l'envoi",
    )
    status = models.CharField(
        "état", max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    queued_at = models.DateTimeField("retenu le")
    claim = models.CharField("lot d'envoi", max_length=32, blank=True)
    claimed_at = models.DateTimeField("pris en charge le", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochaine tentative", null=True, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    # An SMTP reply code (``550 5.1.1``) or a short code of ours; never a server's text, which
    # may repeat the address.
    error = models.CharField("motif d'échec", max_length=40, blank=True)
    unsubscribed_at = models.DateTimeField("désinscription le", null=True, blank=True)

    class Meta:
        verbose_name = "envoi d'une campagne"
        verbose_name_plural = "journal des envois"
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="delivery_once_per_person")
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "next_attempt_at"], name="delivery_work"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.get_status_display()}"
