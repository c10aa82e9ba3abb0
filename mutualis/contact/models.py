"""Inquiries from every channel, their correspondence, and complaints (policy sections 1-A, 7).

An :class:`Inquiry` is a thread: who wrote (a known person, or a visitor's name and contact), by
which channel, to which service it is assigned, its status and answer deadline. Its
:class:`Message` rows are the correspondence in both directions; an e-mail received keeps its
body and attachments three months at most (policy section II), then only a content-free trace
(date, channel, thread) remains. Any inquiry can be qualified as a :class:`Complaint` (ACPR
2022-R-01), which adds the acknowledgement and answer deadlines and the register's fields.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

from mutualis.lib.references import fresh
from mutualis.privacy import catalogue


class Channel(models.TextChoices):
    WEB_FORM = "web_form", "Formulaire du site"
    MEMBER_SPACE = "member_space", "Espace adhérent"
    EMAIL = "email", "Courriel"
    LETTER = "letter", "Courrier"
    PHONE = "phone", "Téléphone"
    IN_PERSON = "in_person", "Accueil"


SERVICE_CHOICES = [
    (s.code, s.label)
    for s in (
        catalogue.SERVICE_RELATION,
        catalogue.SERVICE_GESTION,
        catalogue.SERVICE_COTISATIONS,
        catalogue.SERVICE_RECLAMATIONS,
        catalogue.SERVICE_DPO,
    )
]


class Status(models.TextChoices):
    OPEN = "open", "À traiter"
    WAITING = "waiting", "En attente de la personne"
    ANSWERED = "answered", "Répondu"
    CLOSED = "closed", "Clos"


# The only allowed status changes (architecture.md §9: one explicit table).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.WAITING, Status.ANSWERED, Status.CLOSED}),
    Status.WAITING: frozenset({Status.OPEN, Status.ANSWERED, Status.CLOSED}),
    Status.ANSWERED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


def new_reference() -> str:
    return f"D{timezone.localdate():%y}-{secrets.token_hex(4).upper()}"


class InquiryQuerySet(models.QuerySet):
    def visible_to(self, user) -> InquiryQuerySet:
        """A member sees the threads about them; staff see every thread (roles decide in views)."""
        if user.is_authenticated and getattr(user, "is_staff_account", False):
            return self
        if user.is_authenticated and hasattr(user, "member"):
            return self.filter(person_id=user.member.person_id)
        return self.none()

    def open(self) -> InquiryQuerySet:
        return self.exclude(status=Status.CLOSED)


class Inquiry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField("référence", max_length=12, unique=True, default=new_reference)
    channel = models.CharField("canal", max_length=20, choices=Channel.choices)
    subject = models.CharField("objet", max_length=200)
    # The person it concerns when known (member, beneficiary); otherwise the contact given.
    person = models.ForeignKey(
        "members.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inquiries",
    )
    contact_name = models.CharField("nom", max_length=150, blank=True)
    contact_email = models.EmailField("adresse électronique", blank=True)
    contact_phone = models.CharField("téléphone", max_length=20, blank=True)
    contact_address = models.TextField("adresse postale", blank=True)
    service = models.CharField(
        "service", max_length=20, choices=SERVICE_CHOICES, default=catalogue.SERVICE_RELATION.code
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    received_at = models.DateTimeField("reçue le", default=timezone.now)
    answer_due = models.DateField("réponse attendue le")
    last_contact_at = models.DateTimeField("dernier contact", default=timezone.now, db_index=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = "demande"
        ordering = ["answer_due", "received_at"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.subject}"

    def save(self, *args, **kwargs) -> None:
        fresh(self, "reference", new_reference)  # random references meet now and then
        super().save(*args, **kwargs)

    def can_become(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def display_name(self) -> str:
        return str(self.person) if self.person_id else self.contact_name

    @property
    def reply_address(self) -> str:
        return (self.person.email if self.person_id else "") or self.contact_email

    @property
    def is_overdue(self) -> bool:
        return self.status != Status.CLOSED and self.answer_due < timezone.localdate()


class Direction(models.TextChoices):
    INBOUND = "in", "Reçu"
    OUTBOUND = "out", "Envoyé"


class Message(models.Model):
    """One piece of correspondence. Inbound e-mails lose body and attachments after 3 months."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField("canal", max_length=20, choices=Channel.choices)
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    author = models.ForeignKey(
        "members.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField("expéditeur", max_length=254, blank=True)
    body = models.TextField("contenu", blank=True)
    # Idempotence of e-mail ingestion: the Message-ID (or a digest of the raw message).
    source_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    content_erased_at = models.DateTimeField("contenu effacé le", null=True, blank=True)

    class Meta:
        verbose_name = "message"
        ordering = ["at"]
        indexes = [
            # The retention rule of inbound e-mails (their body, their attachments): its scope,
            # then its anchor. The date alone would have the database read nearly every
            # message older than the cut-off, whatever its channel, for each batch.
            models.Index(fields=["channel", "direction", "at"], name="contact_msg_channel_dir_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.at:%d/%m/%Y} ({self.get_channel_display()})"

    @property
    def is_erased(self) -> bool:
        return self.content_erased_at is not None


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField()

    class Meta:
        verbose_name = "pièce jointe"

    def __str__(self) -> str:
        return self.filename


class ComplainantType(models.TextChoices):
    MEMBER = "member", "Adhérent"
    FORMER_MEMBER = "former_member", "Ancien adhérent"
    BENEFICIARY = "beneficiary", "Bénéficiaire"
    PROSPECT = "prospect", "Prospect"
    HEIR = "heir", "Ayant droit ou héritier"
    OTHER = "other", "Autre"


class Outcome(models.TextChoices):
    UPHELD = "upheld", "Fondée — satisfaction donnée"
    PARTIAL = "partial", "Partiellement fondée"
    REJECTED = "rejected", "Non fondée — refus motivé"


class ComplaintQuerySet(models.QuerySet):
    def open(self) -> ComplaintQuerySet:
        return self.filter(answered_at__isnull=True)

    def by_deadline(self) -> ComplaintQuerySet:
        """The réclamations queue: the nearest deadline first (acknowledgement, then answer)."""
        return self.order_by(
            models.Case(
                models.When(acknowledged_at__isnull=True, then=models.F("acknowledgement_due")),
                default=models.F("answer_due"),
            ),
            "received_on",
        )


class Complaint(models.Model):
    """An inquiry qualified as a complaint: any expression of dissatisfaction (ACPR 2022-R-01)."""

    inquiry = models.OneToOneField(Inquiry, on_delete=models.CASCADE, related_name="complaint")
    qualified_at = models.DateTimeField(default=timezone.now)
    qualified_by = models.ForeignKey(
        "members.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_on = models.DateField("reçue le")
    complainant_type = models.CharField("réclamant", max_length=20, choices=ComplainantType.choices)
    product = models.CharField("produit", max_length=100, blank=True)
    reason = models.CharField("motif", max_length=200)
    acknowledgement_due = models.DateField("accusé de réception dû le")
    answer_due = models.DateField("réponse due le")
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)
    outcome = models.CharField("issue", max_length=10, choices=Outcome.choices, blank=True)
    mediation = models.BooleanField("médiation saisie", default=False)
    root_cause = models.CharField("cause première", max_length=200, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivée le", null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = "réclamation"

    def __str__(self) -> str:
        return f"Réclamation {self.inquiry.reference}"

    @property
    def next_deadline(self):
        if self.answered_at:
            return None
        return self.acknowledgement_due if self.acknowledged_at is None else self.answer_due

    @property
    def is_overdue(self) -> bool:
        deadline = self.next_deadline
        return deadline is not None and deadline < timezone.localdate()
