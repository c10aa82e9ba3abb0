"""The register of the authorities' requisitions (policy section 3: "à leur demande, si la
règlementation en vigueur l'exige").

A requisition names its authority, its legal basis, the authority's reference, its scope (the
people and the categories of data asked for) and its deadline. The DPO approves or refuses it
with reasons; an approved one is exported, exactly within its scope, as an encrypted archive
with a checksum manifest, each person's data a disclosure. The person is told, unless the
requisition forbids it (the secrecy and its ground are recorded, and the DPO records when it
ends).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RequisitionStatus(models.TextChoices):
    RECEIVED = "received", "reçue, en attente de la décision du délégué"
    APPROVED = "approved", "approuvée"
    REFUSED = "refused", "refusée"
    EXPORTED = "exported", "export produit"
    DELIVERED = "delivered", "remise à l'autorité"


REQUISITION_TRANSITIONS = {
    RequisitionStatus.RECEIVED: {RequisitionStatus.APPROVED, RequisitionStatus.REFUSED},
    RequisitionStatus.APPROVED: {RequisitionStatus.EXPORTED},
    RequisitionStatus.REFUSED: set(),
    RequisitionStatus.EXPORTED: {RequisitionStatus.DELIVERED},
    RequisitionStatus.DELIVERED: set(),
}


class RequisitionQuerySet(models.QuerySet):
    def secret(self) -> RequisitionQuerySet:
        """Requisitions whose secrecy still holds: the people are not told (yet)."""
        return self.filter(forbids_notice=True, secrecy_lifted_at__isnull=True)


class Requisition(models.Model):
    organisation = models.ForeignKey(
        "recipients.Organisation",
        verbose_name="autorité",
        on_delete=models.PROTECT,
        related_name="requisitions",
    )
    legal_basis = models.CharField("fondement légal", max_length=300)
    reference = models.CharField("référence de l'autorité", max_length=100)
    received_on = models.DateField("reçue le")
    deadline = models.DateField("délai de réponse")
    categories = models.JSONField("catégories de données demandées", default=list)
    forbids_notice = models.BooleanField("interdit d'informer les personnes", default=False)
    secrecy_ground = models.CharField("fondement du secret", max_length=300, blank=True)
    secrecy_lifted_at = models.DateTimeField("secret levé le", null=True, blank=True)
    status = models.CharField(
        "état", max_length=20, choices=RequisitionStatus.choices, default=RequisitionStatus.RECEIVED
    )
    registered_at = models.DateTimeField("enregistrée le", default=timezone.now)
    registered_by = models.CharField("enregistrée par", max_length=100)
    decided_at = models.DateTimeField("décision le", null=True, blank=True)
    decided_by = models.CharField("décision par", max_length=100, blank=True)
    decision_reasons = models.TextField("motifs de la décision", blank=True)
    exported_at = models.DateTimeField("export produit le", null=True, blank=True)
    # The encrypted archive, kept until it is handed over (its key is never stored).
    archive = models.BinaryField("archive chiffrée", null=True, blank=True)
    archive_sha256 = models.CharField("empreinte de l'archive", max_length=64, blank=True)
    archive_key_id = models.CharField("identifiant de la clé", max_length=32, blank=True)
    delivered_at = models.DateTimeField("remise le", null=True, blank=True)
    delivered_by = models.CharField("remise par", max_length=100, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = RequisitionQuerySet.as_manager()

    class Meta:
        verbose_name = "réquisition d'une autorité"
        verbose_name_plural = "registre des réquisitions"
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"Réquisition {self.reference} ({self.organisation})"

    def move_to(self, status: str) -> None:
        if status not in REQUISITION_TRANSITIONS[self.status]:
            raise ValueError(f"requisition {self.pk}: {self.status} → {status} is not allowed")
        self.status = status

    @property
    def is_secret(self) -> bool:
        return self.forbids_notice and self.secrecy_lifted_at is None


class ToldChannel(models.TextChoices):
    EMAIL = "email", "courriel envoyé"
    LETTER = "letter", "courrier préparé, à poster par le service (envoi non enregistré)"
    WITHHELD = "withheld", "non informée : la réquisition l'interdit"


class RequisitionSubject(models.Model):
    """One person in a requisition's scope, and the disclosure the export made of them."""

    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="subjects")
    subject_id = models.CharField("personne concernée", max_length=64, db_index=True)
    disclosure = models.OneToOneField(
        "audit.Disclosure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requisition_subject",
    )
    # When the person's information was sent (an e-mail, handed to the mail server once the
    # export commits) or, without an e-mail address, when their letter was prepared for posting:
    # the posting itself is not recorded.
    told_at = models.DateTimeField(
        "information envoyée (courriel) ou préparée (courrier) le", null=True, blank=True
    )
    told_channel = models.CharField(
        "information de la personne", max_length=10, choices=ToldChannel.choices, blank=True
    )
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        verbose_name = "personne visée par une réquisition"
        ordering = ["requisition", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["requisition", "subject_id"], name="requisition_subject_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requisition} — {self.subject_id}"
