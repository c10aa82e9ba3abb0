"""Data-subject requests (GDPR art. 12 to 22, Loi 78-17 art. 84-85), their history, and the
post-mortem directives and death records they lead to.

A :class:`RightsRequest` records who asked (a known person, or a name and an address for anyone
else: prospect, adult beneficiary, former member, heir, visitor who wrote), by which channel,
when, how identity was checked, the deadline, what was answered and when. Its status moves only
along :data:`TRANSITIONS`. Every step leaves a :class:`RequestEvent` (and an audit event).

Restrictions of processing live in the ground (:class:`mutualis.privacy.models.Restriction`), so
any service can consult them without importing this app.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

from mutualis.lib.references import fresh


class Kind(models.TextChoices):
    ACCESS = "access", "Accès aux données"
    RECTIFICATION = "rectification", "Rectification"
    ERASURE = "erasure", "Effacement"
    OBJECTION = "objection", "Opposition pour motifs légitimes"
    MARKETING_OBJECTION = "marketing_objection", "Opposition à la prospection"
    POST_MORTEM = "post_mortem", "Directives post mortem"
    PORTABILITY = "portability", "Portabilité"
    RESTRICTION = "restriction", "Limitation du traitement"
    CONSENT_WITHDRAWAL = "consent_withdrawal", "Retrait du consentement"


# The article each kind of request rests on, as the answers cite it.
KIND_ARTICLES: dict[str, str] = {
    Kind.ACCESS: "RGPD art. 15",
    Kind.RECTIFICATION: "RGPD art. 16 et 19",
    Kind.ERASURE: "RGPD art. 17",
    Kind.OBJECTION: "RGPD art. 21(1)",
    Kind.MARKETING_OBJECTION: "RGPD art. 21(2) et (3)",
    Kind.POST_MORTEM: "loi 78-17 art. 84 et 85",
    Kind.PORTABILITY: "RGPD art. 20",
    Kind.RESTRICTION: "RGPD art. 18",
    Kind.CONSENT_WITHDRAWAL: "RGPD art. 7(3)",
}


class Channel(models.TextChoices):
    MEMBER_SPACE = "member_space", "Espace adhérent"
    EMAIL = "email", "Courriel"
    LETTER = "letter", "Courrier"
    PHONE = "phone", "Téléphone"
    IN_PERSON = "in_person", "Accueil"
    WEB_FORM = "web_form", "Formulaire du site (adresse vérifiée)"


class Capacity(models.TextChoices):
    """In what capacity the requester acts."""

    SELF = "self", "La personne concernée"
    REPRESENTATIVE = "representative", "Son représentant légal ou mandataire"
    HEIR = "heir", "Un héritier"
    DESIGNEE = "designee", "La personne désignée par ses directives"


class IdentityMethod(models.TextChoices):
    LOGGED_IN = "logged_in", "Adhérent connecté à son espace"
    DOCUMENT = "document", "Pièce justificative"
    OTHER = "other", "Autre moyen raisonnable"


class Status(models.TextChoices):
    RECEIVED = "received", "Reçue"
    AWAITING_IDENTITY = "awaiting_identity", "En attente d'un justificatif d'identité"
    IN_PROGRESS = "in_progress", "En cours de traitement"
    ANSWERED = "answered", "Répondue"
    REFUSED = "refused", "Refusée"
    CLOSED = "closed", "Close"


# The only allowed status changes (architecture.md §9: one explicit table).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.AWAITING_IDENTITY, Status.IN_PROGRESS, Status.REFUSED}),
    Status.AWAITING_IDENTITY: frozenset({Status.IN_PROGRESS, Status.REFUSED}),
    Status.IN_PROGRESS: frozenset({Status.AWAITING_IDENTITY, Status.ANSWERED, Status.REFUSED}),
    Status.ANSWERED: frozenset({Status.CLOSED}),
    Status.REFUSED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
}
OPEN_STATUSES = frozenset({Status.RECEIVED, Status.AWAITING_IDENTITY, Status.IN_PROGRESS})


class Outcome(models.TextChoices):
    GRANTED = "granted", "Satisfaite"
    PARTIAL = "partial", "Satisfaite en partie"
    REFUSED = "refused", "Refusée"


def new_reference() -> str:
    """``DR`` + year + random hex: no personal data in it."""
    return f"DR{timezone.localdate():%y}-{secrets.token_hex(4).upper()}"


class RightsRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> RightsRequestQuerySet:
        """A member sees the requests about them; staff who may follow requests see them all."""
        if not user.is_authenticated:
            return self.none()
        if getattr(user, "is_staff_account", False):
            return self if user.has_perm("rights:request:view") else self.none()
        member = getattr(user, "member", None)
        if member is None:
            return self.none()
        return self.filter(person_id=member.person_id)

    def open(self) -> RightsRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, day) -> RightsRequestQuerySet:
        """Open requests whose deadline has passed (the clock does not run while waiting)."""
        return self.open().exclude(status=Status.AWAITING_IDENTITY).filter(due_date__lt=day)


class RightsRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField("référence", max_length=14, unique=True, default=new_reference)
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    # The person concerned when known. Kept as an id in ``subject_id`` once the person is erased,
    # so the proof of the answer outlives the data it was about.
    person = models.ForeignKey(
        "members.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rights_requests",
        verbose_name="personne concernée",
    )
    subject_id = models.CharField("identifiant de la personne", max_length=64, blank=True)
    requester_name = models.CharField("demandeur", max_length=150, blank=True)
    requester_email = models.EmailField("adresse électronique du demandeur", blank=True)
    requester_address = models.TextField("adresse postale du demandeur", blank=True)
    requester_capacity = models.CharField(
        "qualité du demandeur", max_length=20, choices=Capacity.choices, default=Capacity.SELF
    )
    channel = models.CharField("canal", max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField("reçue le", default=timezone.now)
    # Identity (GDPR art. 12(2) and (6)).
    identity_method = models.CharField(
        "vérification d'identité", max_length=20, choices=IdentityMethod.choices, blank=True
    )
    identity_note = models.TextField("note sur la vérification", blank=True)
    identity_checked_by = models.ForeignKey(
        "members.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="vérifiée par",
    )
    identity_checked_at = models.DateTimeField("identité vérifiée le", null=True, blank=True)
    identity_requested_at = models.DateTimeField("justificatif demandé le", null=True, blank=True)
    waited_days = models.PositiveIntegerField("jours d'attente du justificatif", default=0)
    # Deadline (GDPR art. 12(3)): see mutualis.rights.deadlines.
    due_date = models.DateField("réponse due le")
    extended_months = models.PositiveSmallIntegerField("prolongation (mois)", default=0)
    extension_reason = models.TextField("motif de la prolongation", blank=True)
    extension_notice_sent_at = models.DateTimeField(
        "prolongation notifiée le", null=True, blank=True
    )
    status = models.CharField(
        "état", max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    outcome = models.CharField("issue", max_length=10, choices=Outcome.choices, blank=True)
    answer_text = models.TextField("réponse", blank=True)
    refusal_reasons = models.TextField("motifs du refus", blank=True)
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    # What the request is about, by kind: fields to rectify and their new values, purposes for
    # an objection or a restriction, the directive, the erasure plan... (see services).
    details = models.JSONField("précisions", default=dict, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivée le", null=True, blank=True)

    objects = RightsRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande d'exercice de droits"
        verbose_name_plural = "demandes d'exercice de droits"
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.get_kind_display()}"

    def save(self, *args, **kwargs) -> None:
        fresh(self, "reference", new_reference)  # random references meet now and then
        super().save(*args, **kwargs)

    def can_become(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_extended(self) -> bool:
        return self.extended_months > 0

    @property
    def identity_verified(self) -> bool:
        return self.identity_checked_at is not None

    @property
    def article(self) -> str:
        return KIND_ARTICLES[self.kind]

    @property
    def reply_address(self) -> str:
        """Where answers go: the address the requester gave, else the person's own."""
        if self.requester_email:
            return self.requester_email
        return (self.person.email if self.person_id else "") or ""

    @property
    def display_name(self) -> str:
        return self.requester_name or (self.person.full_name if self.person_id else "")

    def log(self, action: str, *, actor=None, note: str = "") -> RequestEvent:
        """Add a step to the request's history (the caller audits it in its transaction)."""
        return RequestEvent.objects.create(
            request=self, actor=actor_label(actor), action=action, note=note
        )


def actor_label(actor) -> str:
    """Who acted, as the audit log names them (``user:12``, ``system``), never by name."""
    if actor is None:
        return "system"
    if isinstance(actor, models.Model):
        return f"{actor._meta.model_name}:{actor.pk}"
    if getattr(actor, "is_authenticated", None) is False:
        return "anonymous"
    return str(actor)[:100]


class RequestEvent(models.Model):
    """One step of a request: what was done, when, by whom (every step is also audited)."""

    class Action(models.TextChoices):
        FILED = "filed", "Demande reçue"
        MERGED = "merged", "Demande identique reçue à nouveau (jointe à celle-ci)"
        ACKNOWLEDGED = "acknowledged", "Accusé de réception envoyé"
        IDENTITY_CHECKED = "identity_checked", "Identité vérifiée"
        IDENTITY_ASKED = "identity_asked", "Justificatif d'identité demandé"
        EXTENDED = "extended", "Délai prolongé (personne informée)"
        STATUS = "status", "Changement d'état"
        WORK = "work", "Traitement effectué"
        DECISION = "decision", "Décision"
        RECIPIENTS = "recipients", "Destinataires informés"
        ANSWERED = "answered", "Réponse envoyée"
        REFUSED = "refused", "Refus motivé envoyé"
        CLOSED = "closed", "Demande close"
        DOWNLOAD = "download", "Copie téléchargée"
        LETTER = "letter", "Courrier à envoyer"
        NOTE = "note", "Note"

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("date", default=timezone.now)
    actor = models.CharField("auteur", max_length=100)  # an audit actor id: "user:12", "system"
    action = models.CharField(max_length=20, choices=Action.choices)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = "étape d'une demande"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_action_display()}"


class DirectiveScope(models.TextChoices):
    GENERAL = "general", "Directives générales (toutes vos données)"
    SPECIFIC = "specific", "Directives particulières (vos données à la mutuelle)"


class PostMortemDirectiveQuerySet(models.QuerySet):
    def in_force(self) -> PostMortemDirectiveQuerySet:
        return self.filter(revoked_at__isnull=True)


class PostMortemDirective(models.Model):
    """What a person wants done with their data after their death (Loi 78-17 art. 85)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Goes with the person: directives about data that no longer exists are moot.
    person = models.ForeignKey(
        "members.Person", on_delete=models.CASCADE, related_name="post_mortem_directives"
    )
    scope = models.CharField("portée", max_length=10, choices=DirectiveScope.choices)
    instructions = models.TextField("instructions")
    designated_name = models.CharField("personne désignée", max_length=150, blank=True)
    designated_email = models.EmailField("adresse de la personne désignée", blank=True)
    request = models.ForeignKey(
        RightsRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField("enregistrées le", default=timezone.now)
    revoked_at = models.DateTimeField("révoquées le", null=True, blank=True)
    applied_at = models.DateTimeField("mises en œuvre le", null=True, blank=True)

    objects = PostMortemDirectiveQuerySet.as_manager()

    class Meta:
        verbose_name = "directive post mortem"
        verbose_name_plural = "directives post mortem"
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Directives {self.get_scope_display().lower()} du {self.recorded_at:%d/%m/%Y}"


class ProofOfDeath(models.TextChoices):
    CERTIFICATE = "certificate", "Acte de décès"
    SCHEME = "scheme", "Information du régime obligatoire"
    NOTARY = "notary", "Courrier d'un notaire"
    OTHER = "other", "Autre justificatif"


class DeathRecord(models.Model):
    """A person's death, recorded on proof: it sets their directives in motion (art. 85)."""

    person = models.OneToOneField(
        "members.Person", on_delete=models.CASCADE, related_name="death_record"
    )
    date_of_death = models.DateField("date du décès")
    proof_type = models.CharField("justificatif", max_length=20, choices=ProofOfDeath.choices)
    recorded_by = models.ForeignKey(
        "members.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "décès"

    def __str__(self) -> str:
        return f"Décès du {self.date_of_death:%d/%m/%Y}"


class PendingRequest(models.Model):
    """A request sent through the public form, held until its e-mail address is verified.

    Only a hash of the single-use verification token is kept; the request enters the staff queue
    (a :class:`RightsRequest`, received when it was sent) once the link is followed, and this row
    goes. One left unverified expires (``expires_at``) and is deleted by the retention engine.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    requester_name = models.CharField("demandeur", max_length=150)
    requester_email = models.EmailField("adresse électronique du demandeur")
    requester_capacity = models.CharField(
        "qualité du demandeur", max_length=20, choices=Capacity.choices, default=Capacity.SELF
    )
    message = models.TextField("précisions", blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("lien valable jusqu'au")

    class Meta:
        verbose_name = "demande en attente de vérification de l'adresse"
        verbose_name_plural = "demandes en attente de vérification de l'adresse"

    def __str__(self) -> str:
        return f"Demande en attente {self.pk}"
