"""The affiliation exchange with each mandatory scheme's organisation (docs/scheme_exchange.md).

An :class:`ExchangeFile` is one outbound file for one organisation and one day; its lines are
chosen first (``BUILDING``), then the file is written and each person's line becomes a
disclosure recorded with the file's hash (``WRITTEN``); the organisation's acknowledgement
file, once imported, marks each line accepted or rejected (``ACKNOWLEDGED``). A rejected line
waits in the *gestion* service's queue until someone records what was done.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ExchangeStatus(models.TextChoices):
    BUILDING = "building", "en préparation"
    WRITTEN = "written", "envoyé"
    ACKNOWLEDGED = "acknowledged", "accusé de réception reçu"


EXCHANGE_TRANSITIONS = {
    ExchangeStatus.BUILDING: {ExchangeStatus.WRITTEN},
    ExchangeStatus.WRITTEN: {ExchangeStatus.ACKNOWLEDGED},
    ExchangeStatus.ACKNOWLEDGED: set(),
}


class ExchangeFile(models.Model):
    organisation = models.ForeignKey(
        "recipients.Organisation", on_delete=models.PROTECT, related_name="exchanges"
    )
    sequence = models.PositiveIntegerField("numéro de fichier")
    as_of = models.DateField("situation au")
    created_at = models.DateTimeField("créé le", default=timezone.now)
    status = models.CharField(
        "état", max_length=20, choices=ExchangeStatus.choices, default=ExchangeStatus.BUILDING
    )
    file_name = models.CharField("nom du fichier", max_length=100, blank=True)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    affiliations = models.PositiveIntegerField("personnes", default=0)
    notices = models.PositiveIntegerField("avis de rectification ou d'effacement", default=0)
    written_at = models.DateTimeField("écrit le", null=True, blank=True)
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)

    class Meta:
        verbose_name = "fichier d'échange avec un régime obligatoire"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "sequence"], name="exchange_sequence_unique"
            ),
            models.UniqueConstraint(fields=["organisation", "as_of"], name="exchange_one_per_day"),
        ]

    def __str__(self) -> str:
        return self.file_name or f"échange n° {self.sequence}"

    def move_to(self, status: str) -> None:
        if status not in EXCHANGE_TRANSITIONS[self.status]:
            raise ValueError(f"exchange {self.pk}: {self.status} → {status} is not allowed")
        self.status = status


class LineKind(models.TextChoices):
    AFFILIATION = "affiliation", "affiliation"
    NOTICE = "notice", "avis de rectification ou d'effacement"


class LineStatus(models.TextChoices):
    PENDING = "pending", "en attente de l'accusé de réception"
    ACCEPTED = "accepted", "acceptée"
    REJECTED = "rejected", "rejetée"


class ExchangeLineQuerySet(models.QuerySet):
    def to_resolve(self) -> ExchangeLineQuerySet:
        """Rejected lines nobody has dealt with yet: the *gestion* service's queue."""
        return self.filter(status=LineStatus.REJECTED, resolved_at__isnull=True)


class ExchangeLine(models.Model):
    exchange = models.ForeignKey(ExchangeFile, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveIntegerField("numéro de ligne")
    kind = models.CharField("nature", max_length=20, choices=LineKind.choices)
    subject_id = models.CharField("personne concernée", max_length=64, blank=True, db_index=True)
    notice = models.ForeignKey(
        "recipients.Notice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_lines",
    )
    status = models.CharField(
        "résultat", max_length=20, choices=LineStatus.choices, default=LineStatus.PENDING
    )
    reject_code = models.CharField("code de rejet", max_length=3, blank=True)
    reject_label = models.CharField("motif du rejet", max_length=60, blank=True)
    disclosure = models.OneToOneField(
        "audit.Disclosure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exchange_line",
    )
    resolved_at = models.DateTimeField("traité le", null=True, blank=True)
    resolved_by = models.CharField("traité par", max_length=100, blank=True)
    resolution = models.CharField("suite donnée", max_length=300, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = ExchangeLineQuerySet.as_manager()

    class Meta:
        verbose_name = "ligne d'un fichier d'échange"
        ordering = ["exchange", "number"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "number"], name="exchange_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.exchange} ligne {self.number}"

    @property
    def reference(self) -> str:
        """How the organisation knows this line: file sequence and line number."""
        return f"{self.exchange.sequence:06d}{self.number:07d}"


class ExchangeAcknowledgement(models.Model):
    """An imported acknowledgement file (its hash makes a second import a no-op)."""

    exchange = models.ForeignKey(
        ExchangeFile, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    sha256 = models.CharField("empreinte SHA-256", max_length=64, unique=True)
    file_name = models.CharField("nom du fichier", max_length=200)
    imported_at = models.DateTimeField("importé le", default=timezone.now)
    accepted = models.PositiveIntegerField("lignes acceptées", default=0)
    rejected = models.PositiveIntegerField("lignes rejetées", default=0)

    class Meta:
        verbose_name = "accusé de réception d'un régime obligatoire"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name
