"""The register of personal-data breaches (GDPR art. 33(5)): every breach, notified or not,
with its facts, effects and remedies, its notification to the CNIL (art. 33) and the decision
to inform the people concerned (art. 34), with the letters sent to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Nature(models.TextChoices):
    CONFIDENTIALITY = (
        "confidentiality",
        "Perte de confidentialité (divulgation ou accès non autorisé)",
    )
    INTEGRITY = "integrity", "Perte d'intégrité (modification non autorisée)"
    AVAILABILITY = "availability", "Perte de disponibilité (perte ou destruction)"


class Origin(models.TextChoices):
    INTERNAL_ACCIDENTAL = "internal_accidental", "Interne, accidentelle"
    INTERNAL_MALICIOUS = "internal_malicious", "Interne, malveillante"
    EXTERNAL_ACCIDENTAL = "external_accidental", "Externe, accidentelle"
    EXTERNAL_MALICIOUS = "external_malicious", "Externe, malveillante"
    UNKNOWN = "unknown", "Inconnue à ce jour"


class Risk(models.TextChoices):
    UNASSESSED = "unassessed", "À évaluer"
    UNLIKELY = "unlikely", "Risque improbable pour les personnes : pas de notification (art. 33(1))"
    RISK = "risk", "Risque pour les personnes : notification à la CNIL (art. 33)"
    HIGH = "high", "Risque élevé : notification à la CNIL et information des personnes (art. 34)"


class PeopleDecision(models.TextChoices):
    PENDING = "pending", "À décider"
    INFORM = "inform", "Informer les personnes concernées"
    NOT_INFORM = "not_inform", "Ne pas informer les personnes"


class NotInformGround(models.TextChoices):
    """The three cases where a high-risk breach need not be told to the people (art. 34(3))."""

    PROTECTED = (
        "protected",
        "Données rendues incompréhensibles, par exemple chiffrées (art. 34(3)(a))",
    )
    MITIGATED = (
        "mitigated",
        "Mesures ultérieures rendant le risque élevé improbable (art. 34(3)(b))",
    )
    PUBLIC = (
        "public",
        "Efforts disproportionnés : communication publique à la place (art. 34(3)(c))",
    )


class Status(models.TextChoices):
    OPEN = "open", "En cours"
    CLOSED = "closed", "Close"


STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


class Breach(models.Model):
    reference = models.CharField("référence", max_length=20, unique=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.OPEN)
    title = models.CharField("intitulé", max_length=200)
    discovered_at = models.DateTimeField("prise de connaissance")
    started_at = models.DateTimeField("début de la violation", null=True, blank=True)
    ended_at = models.DateTimeField("fin de la violation", null=True, blank=True)
    natures = models.JSONField("nature", default=list)
    origin = models.CharField(
        "origine", max_length=30, choices=Origin.choices, default=Origin.UNKNOWN
    )
    circumstances = models.TextField("circonstances")
    data_categories = models.JSONField("catégories de données", default=list)
    subject_groups = models.JSONField("catégories de personnes", default=list)
    people_count = models.PositiveIntegerField(
        "nombre approximatif de personnes", null=True, blank=True
    )
    records_count = models.PositiveIntegerField(
        "nombre approximatif d'enregistrements", null=True, blank=True
    )
    consequences = models.TextField("conséquences probables")
    measures_taken = models.TextField("mesures prises")
    measures_planned = models.TextField("mesures envisagées", blank=True)
    risk = models.CharField("risque", max_length=20, choices=Risk.choices, default=Risk.UNASSESSED)
    cnil_notified_at = models.DateTimeField("notifiée à la CNIL le", null=True, blank=True)
    cnil_reference = models.CharField("numéro de notification", max_length=50, blank=True)
    late_reason = models.TextField("motif du retard de notification", blank=True)
    people_decision = models.CharField(
        "information des personnes",
        max_length=20,
        choices=PeopleDecision.choices,
        default=PeopleDecision.PENDING,
    )
    not_inform_ground = models.CharField(
        "motif de non-information", max_length=20, choices=NotInformGround.choices, blank=True
    )
    decision_note = models.TextField("justification de la décision", blank=True)
    people_informed_at = models.DateTimeField("personnes informées le", null=True, blank=True)
    recorded_at = models.DateTimeField("inscrite le", default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "violation de données"
        verbose_name_plural = "violations de données"
        ordering = ["-discovered_at"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def can_move_to(self, status: str) -> bool:
        return status in STATUS_TRANSITIONS[self.status]


class LetterChannel(models.TextChoices):
    EMAIL = "email", "Courriel"
    POST = "post", "Courrier postal"


class AffectedPerson(models.Model):
    """One person concerned by a breach, and the letter that informed them (art. 34)."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey("members.Person", on_delete=models.CASCADE, related_name="breaches")
    added_at = models.DateTimeField("désignée le", default=timezone.now)
    letter_channel = models.CharField(
        "moyen d'information", max_length=10, choices=LetterChannel.choices, blank=True
    )
    letter_at = models.DateTimeField("informée le", null=True, blank=True)
    withheld = models.CharField("lettre retenue", max_length=200, blank=True)

    class Meta:
        verbose_name = "personne concernée par une violation"
        constraints = [
            models.UniqueConstraint(fields=["breach", "person"], name="breaches_one_row_per_person")
        ]

    def __str__(self) -> str:
        return f"personne concernée n° {self.pk}"
