"""The outside recipients the policy names (section 3) and what each received.

- :class:`Organisation`: a health professional (pharmacy, hospital, clinic, health centre,
  optician), a mandatory scheme's organisation or an authority, registered by staff with its
  identifier; its kind decides which recipient of the declaration it is, and so which
  categories of data it may ever receive.
- :class:`Credential`: an API key of an organisation, stored as a SHA-256 hash, scoped,
  expiring, revocable; a rotation gives a new key and lets the old one live for an overlap.
- :class:`RateWindow`: the per-organisation request counter, in the database so that every web
  worker and host counts the same requests.
- :class:`RightsCheck`: each answer of the rights-check API, with the disclosure it made.
- :class:`Notice`: the GDPR art. 19 notice of a rectification or an erasure to one organisation
  that had received the data, by the channel its kind uses.

The mandatory-scheme exchange and the authorities' requisitions have their own modules
(:mod:`.models_exchange`, :mod:`.models_requisitions`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from mutualis.privacy import catalogue
from mutualis.privacy.declaration import Recipient
from mutualis.recipients.identifiers import IdentifierType


class OrganisationKind(models.TextChoices):
    PHARMACY = "pharmacy", "pharmacie"
    HOSPITAL = "hospital", "hôpital"
    CLINIC = "clinic", "clinique"
    HEALTH_CENTRE = "health_centre", "centre de santé"
    OPTICIAN = "optician", "opticien"
    SCHEME = "scheme", "organisme de régime obligatoire"
    AUTHORITY = "authority", "autorité administrative ou judiciaire"


HEALTH_PROFESSIONAL_KINDS = frozenset(
    {
        OrganisationKind.PHARMACY,
        OrganisationKind.HOSPITAL,
        OrganisationKind.CLINIC,
        OrganisationKind.HEALTH_CENTRE,
        OrganisationKind.OPTICIAN,
    }
)

# Which identifiers each kind may be registered with.
IDENTIFIER_TYPES: dict[str, tuple[str, ...]] = {
    **{kind: (IdentifierType.FINESS, IdentifierType.AM) for kind in HEALTH_PROFESSIONAL_KINDS},
    OrganisationKind.SCHEME: (IdentifierType.SCHEME,),
    OrganisationKind.AUTHORITY: (IdentifierType.SIRET, IdentifierType.NONE),
}


def recipient_of(kind: str) -> Recipient:
    """The declaration's recipient an organisation of ``kind`` is (policy section 3)."""
    if kind in HEALTH_PROFESSIONAL_KINDS:
        return catalogue.HEALTH_PROFESSIONALS
    if kind == OrganisationKind.SCHEME:
        return catalogue.MANDATORY_SCHEMES
    if kind == OrganisationKind.AUTHORITY:
        return catalogue.AUTHORITIES
    raise ValueError(f"unknown organisation kind {kind!r}")


class Organisation(models.Model):
    kind = models.CharField("nature", max_length=20, choices=OrganisationKind.choices)
    name = models.CharField("nom", max_length=200)
    identifier_type = models.CharField(
        "type d'identifiant", max_length=10, choices=IdentifierType.choices
    )
    identifier = models.CharField("identifiant", max_length=20, blank=True)
    address = models.TextField("adresse postale", blank=True)
    # A named contact at the organisation (personal data of that person, not of a member).
    contact_name = models.CharField("interlocuteur", max_length=150, blank=True)
    contact_email = models.EmailField("adresse électronique de contact", blank=True)
    contact_phone = models.CharField("téléphone de contact", max_length=20, blank=True)
    # Requests per window accepted from this organisation; None: the default setting.
    rate_limit = models.PositiveIntegerField("limite de requêtes par minute", null=True, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("enregistrée le", default=timezone.now)

    class Meta:
        verbose_name = "organisme destinataire"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["identifier_type", "identifier"],
                condition=~models.Q(identifier=""),
                name="organisation_identifier_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def recipient(self) -> Recipient:
        return recipient_of(self.kind)

    @property
    def identity(self) -> str:
        """The organisation as disclosures name it: name and identifier."""
        if not self.identifier:
            return self.name
        return f"{self.name} ({self.get_identifier_type_display()} {self.identifier})"

    @property
    def scheme_code(self) -> tuple[str, str]:
        """(code grand régime, code caisse) of a scheme organisation."""
        return self.identifier[:2], self.identifier[2:5]


class Scope(models.TextChoices):
    """What an API key may do."""

    RIGHTS_CHECK = "rights:check", "vérifier les droits d'un patient (tiers payant)"
    NOTICES_READ = "notices:read", "lire les avis de rectification et d'effacement"


class CredentialQuerySet(models.QuerySet):
    def usable(self, now=None) -> CredentialQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, organisation__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class Credential(models.Model):
    """An API key: ``mtl_<prefix>_<secret>``; only the SHA-256 of the whole key is stored."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="credentials"
    )
    label = models.CharField("libellé", max_length=100, blank=True)
    prefix = models.CharField("préfixe public", max_length=16, unique=True)
    secret_hash = models.CharField("empreinte", max_length=64)
    scopes = models.JSONField("droits", default=list)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    created_by = models.CharField("créée par", max_length=100)
    expires_at = models.DateTimeField("expire le", null=True, blank=True)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)
    revoked_by = models.CharField("révoquée par", max_length=100, blank=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name="remplace",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced_by",
    )

    objects = CredentialQuerySet.as_manager()

    class Meta:
        verbose_name = "clé d'API"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"mtl_{self.prefix}_…"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "révoquée"
        if self.expires_at is not None and self.expires_at <= now:
            return "expirée"
        if self.expires_at is not None:
            return "valide jusqu'au " + timezone.localtime(self.expires_at).strftime(
                "%d/%m/%Y %H:%M"
            )
        return "valide"


class RateWindow(models.Model):
    """Requests counted for one organisation in one fixed window (its start, in seconds)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "window_start"], name="ratewindow_one_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} @ {self.window_start}: {self.hits}"


class CheckOutcome(models.TextChoices):
    COVERED = "covered", "couvert"
    NOT_COVERED = "not_covered", "non couvert"
    SUSPENDED = "suspended", "garanties suspendues"
    TERMINATED = "terminated", "contrat résilié"
    UNKNOWN = "unknown", "aucun adhérent ne correspond"
    RESTRICTED = "restricted", "traitement limité (RGPD art. 18) : rien n'est communiqué"
    ERASED = "erased", "données effacées : rien n'est communiqué"


# The outcomes whose answer tells the organisation something about a person: each is a
# disclosure. The others answer exactly as for someone who is not a member.
DISCLOSING_OUTCOMES = frozenset(
    {
        CheckOutcome.COVERED,
        CheckOutcome.NOT_COVERED,
        CheckOutcome.SUSPENDED,
        CheckOutcome.TERMINATED,
    }
)


class RightsCheck(models.Model):
    """One answer of the rights-check API. Its id is the reference given to the caller."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="rights_checks"
    )
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField("personne concernée", max_length=64, blank=True, db_index=True)
    care_date = models.DateField("date des soins", null=True, blank=True)
    outcome = models.CharField("réponse", max_length=20, choices=CheckOutcome.choices)
    # The disclosure the answer made; the check goes with it (same retention).
    disclosure = models.OneToOneField(
        "audit.Disclosure",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rights_check",
    )
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    class Meta:
        verbose_name = "vérification de droits (tiers payant)"
        verbose_name_plural = "vérifications de droits (tiers payant)"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"vérification {self.pk}"


class NoticeCause(models.TextChoices):
    RECTIFICATION = "rectification", "rectification"
    ERASURE = "erasure", "effacement"


class NoticeChannel(models.TextChoices):
    API = "api", "avis à lire par l'API"
    EXCHANGE = "exchange", "prochain fichier d'échange"
    LETTER = "letter", "courrier"


CHANNEL_OF_KIND = {
    **{kind: NoticeChannel.API for kind in HEALTH_PROFESSIONAL_KINDS},
    OrganisationKind.SCHEME: NoticeChannel.EXCHANGE,
    OrganisationKind.AUTHORITY: NoticeChannel.LETTER,
}


class NoticeQuerySet(models.QuerySet):
    def pending(self) -> NoticeQuerySet:
        return self.filter(sent_at__isnull=True)


class Notice(models.Model):
    """A GDPR art. 19 notice to one organisation: data it received were rectified or erased.

    It names what the organisation received by its own references (the rights checks' ids,
    the exchange lines', the requisition's), never by the person's data: an erasure notice
    must not carry again what it asks to erase. ``sent_at`` is when it left (made available to
    the API, written in an exchange file, letter posted); ``delivered_at`` when the organisation
    read it through the API.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField("créé le", default=timezone.now, db_index=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notices")
    cause = models.CharField("nature", max_length=20, choices=NoticeCause.choices)
    channel = models.CharField("canal", max_length=10, choices=NoticeChannel.choices)
    categories = models.JSONField("catégories concernées", default=list)
    references = models.JSONField("références communiquées", default=list)
    source = models.CharField("demande d'origine", max_length=100)
    letter = models.TextField("courrier", blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    delivered_at = models.DateTimeField("lu le", null=True, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "avis aux destinataires (RGPD art. 19)"
        verbose_name_plural = "avis aux destinataires (RGPD art. 19)"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"avis de {self.get_cause_display()} à {self.organisation}"


# The exchange and the requisitions are models of this app, kept in their own modules.
from mutualis.recipients.models_exchange import (  # noqa: E402, F401
    ExchangeAcknowledgement,
    ExchangeFile,
    ExchangeLine,
)
from mutualis.recipients.models_requisitions import (  # noqa: E402, F401
    Requisition,
    RequisitionSubject,
)
