"""Offers (formules) with their premium tables, contracts, and drafts of online subscriptions."""

from __future__ import annotations

import datetime
import json
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from mutualis.lib.prepared import PreparedQuery
from mutualis.members.models import Beneficiary, Member, Person
from mutualis.vault.erased import is_erased
from mutualis.vault.fields import EncryptedTextField


class OfferQuerySet(models.QuerySet):
    def available(self) -> OfferQuerySet:
        return self.filter(is_active=True).order_by("position", "name")


class Offer(models.Model):
    """A formule, priced per person covered by age band (monthly premium)."""

    code = models.SlugField(unique=True)
    name = models.CharField("nom", max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = "formule"
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def monthly_rate_for_age(self, age: int, on: datetime.date | None = None) -> Decimal:
        """The rate of ``age`` in the table in force on ``on`` (today by default): the latest
        table effective on or before that day."""
        return self.rate_table(on).rate_for_age(age)

    def rate_table(self, on: datetime.date | None = None) -> RateTable:
        """The table in force on ``on`` (today by default): :func:`rates_in_force`."""
        rates = rates_in_force(self.pk, on or timezone.localdate())
        return RateTable(
            offer=self.code,
            bands=tuple((rate.min_age, rate.max_age, rate.monthly_amount) for rate in rates),
        )


@dataclass(frozen=True)
class RateTable:
    """The age bands of one offer's rate table: ``(min_age, max_age, monthly_amount)``."""

    offer: str
    bands: tuple[tuple[int, int, Decimal], ...]

    def rate_for_age(self, age: int) -> Decimal:
        """The monthly rate of ``age``: the band of the lowest minimum age that holds it."""
        for min_age, max_age, amount in self.bands:
            if min_age <= age <= max_age:
                return amount
        raise ValueError(f"no premium rate for age {age} in offer {self.offer}")


# The date of the first rate tables (rows created before rate tables were dated).
RATES_SINCE = datetime.date(2000, 1, 1)


class PremiumRate(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="rates")
    min_age = models.PositiveSmallIntegerField(validators=[MaxValueValidator(130)])
    max_age = models.PositiveSmallIntegerField(validators=[MaxValueValidator(130)])
    monthly_amount = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    # A dated rate table: the rows of one offer sharing ``effective_from`` form the table in
    # force from that day until the next one (a yearly tariff change starts on 1 January).
    effective_from = models.DateField("en vigueur à compter du", default=RATES_SINCE)

    class Meta:
        ordering = ["offer", "effective_from", "min_age"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_age__lte=models.F("max_age")), name="rate_age_band_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.offer.code} {self.min_age}-{self.max_age} ans : {self.monthly_amount} €"


# Latest table first, each table's bands by age (see rates_in_force).
_RATES_OF_OFFER = PreparedQuery(
    lambda offer_id: PremiumRate.objects.filter(offer_id=offer_id).order_by(
        "-effective_from", "min_age", "pk"
    )
)


def rates_in_force(offer_id: int, day: datetime.date) -> list[PremiumRate]:
    """The bands of the offer's table in force on ``day`` (the latest effective on or before
    it), by age. One query, written once per process (every page that shows a premium, every
    schedule, asks for it): the offer's tables, all of them (a table a year, a dozen bands
    each), the one in force picked here."""
    rates = [rate for rate in _RATES_OF_OFFER(offer_id) if rate.effective_from <= day]
    latest = rates[0].effective_from if rates else None
    return [rate for rate in rates if rate.effective_from == latest]


class CareDomain(models.TextChoices):
    """Domains of care an offer reimburses, coded as on a third-party payment certificate
    (attestation de tiers payant): what a health professional needs to know of an offer."""

    PHARMACY = "PHAR", "pharmacie"
    MEDICAL = "MEDE", "soins médicaux (consultations, auxiliaires médicaux)"
    LABORATORY = "LABO", "analyses et examens de laboratoire"
    HOSPITAL = "HOSP", "hospitalisation"
    OPTICS = "OPTI", "optique"
    DENTAL = "DENT", "dentaire"
    HEARING = "AUDI", "aides auditives"


class Guarantee(models.Model):
    """One guarantee level of an offer: the share of the Sécurité sociale tariff (base de
    remboursement) reimbursed in a domain of care, and whether third-party payment applies."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="guarantees")
    domain = models.CharField("domaine de soins", max_length=4, choices=CareDomain.choices)
    rate_percent = models.PositiveSmallIntegerField(
        "niveau de prise en charge (% de la base de remboursement)",
        validators=[MaxValueValidator(1000)],
    )
    third_party_payment = models.BooleanField("tiers payant", default=True)

    class Meta:
        verbose_name = "garantie"
        ordering = ["offer", "domain"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "domain"], name="guarantee_one_per_domain")
        ]

    def __str__(self) -> str:
        return f"{self.offer.code} {self.domain} : {self.rate_percent} %"


def new_contract_number() -> str:
    return f"C{secrets.randbelow(10**9):09d}"


class ContractQuerySet(models.QuerySet):
    def of_person(self, person) -> ContractQuerySet:
        """The person's contracts, as member or as beneficiary.

        A UNION of two indexed lookups, not an OR across the two joins: no index answers such
        an OR, and the planner reads every contract (1.2 s at 1,000,000 members).
        """
        as_member = self.model.objects.filter(member__person=person).order_by().values("pk")
        as_beneficiary = (
            self.model.beneficiaries.through.objects.filter(beneficiary__person=person)
            .order_by()
            .values("contract_id")
        )
        return self.filter(pk__in=as_member.union(as_beneficiary))

    def active_on(self, day: datetime.date) -> ContractQuerySet:
        return self.filter(start_date__lte=day).filter(
            models.Q(end_date__isnull=True) | models.Q(end_date__gte=day)
        )


class Contract(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField("numéro de contrat", max_length=10, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="contracts")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="contracts")
    beneficiaries = models.ManyToManyField(Beneficiary, blank=True, related_name="contracts")
    start_date = models.DateField("date d'effet")
    end_date = models.DateField("date de fin", null=True, blank=True)
    cgu_version = models.CharField("version des CGU acceptée", max_length=20)
    policy_version = models.ForeignKey(
        "privacy.PolicyVersion",
        verbose_name="version de la politique de confidentialité acceptée",
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField("acceptée le", default=timezone.now)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = "contrat"
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"Contrat {self.number} ({self.offer})"

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.start_date <= today and (self.end_date is None or self.end_date >= today)

    def covered_people(self) -> list[Person]:
        return [self.member.person] + [b.person for b in self.beneficiaries.all()]

    def monthly_premium(self, on: datetime.date | None = None) -> Decimal:
        """Sum of each covered person's rate for their age on ``on`` (today by default), from
        one read of the offer's rate table in force that day."""
        day = on or timezone.localdate()
        total = Decimal("0")
        table = None
        for person in self.covered_people():
            age = person.age_on(day)
            if age is not None:
                table = table or self.offer.rate_table(day)
                total += table.rate_for_age(age)
        return total


# A draft of an online subscription is kept one day at most (data minimisation: GDPR art.
# 5(1)(c) and (e)); its services are in mutualis.contracts.drafts.
DRAFT_LIFETIME = datetime.timedelta(hours=24)


class SubscriptionDraftQuerySet(models.QuerySet):
    def expired(self, now: datetime.datetime | None = None) -> SubscriptionDraftQuerySet:
        """Drafts past their expiry date: they are never shown again and are purged."""
        return self.filter(expires_at__lte=now or timezone.now())

    def live(self, now: datetime.datetime | None = None) -> SubscriptionDraftQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())


class SubscriptionDraft(models.Model):
    """The steps of one online subscription, not yet confirmed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.OneToOneField("vault.DataKey", on_delete=models.PROTECT, related_name="+")
    # JSON of the steps filled in so far, encrypted under the draft's own data key.
    payload = EncryptedTextField("données saisies")
    current_step = models.CharField("étape en cours", max_length=40, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now, editable=False)
    expires_at = models.DateTimeField("expire le", db_index=True)

    objects = SubscriptionDraftQuerySet.as_manager()

    class Meta:
        app_label = "contracts"
        verbose_name = "adhésion en ligne en cours"
        verbose_name_plural = "adhésions en ligne en cours"

    def __str__(self) -> str:
        return f"Brouillon d'adhésion {self.pk}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def data(self) -> dict[str, Any]:
        """The decoded payload (a fresh copy: change it, then :meth:`store` it)."""
        raw = self.payload
        if not raw or is_erased(raw):
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def store(self, data: dict[str, Any], *, current_step: str) -> None:
        """Encrypt and save ``data`` (JSON-serialisable) as the new payload."""
        self.payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        self.current_step = current_step[:40]
        self.save(update_fields=["payload", "current_step"])


# --- Terms of use (CGU) and policy notices (architecture.md §13) ---------------------------------
class CguVersionQuerySet(models.QuerySet):
    def published(self) -> CguVersionQuerySet:
        return self.order_by("-effective_date", "-published_at")


class CguVersion(models.Model):
    """A dated, published version of the member space's terms of use (CGU).

    The text is rendered once, when published, and kept as published: a member who accepted a
    version can always read what they accepted, at its own URL.
    """

    effective_date = models.DateField("date d'effet", unique=True)
    published_at = models.DateTimeField("publiée le", auto_now_add=True)
    content_hash = models.CharField(max_length=64)
    body_html = models.TextField()

    objects = CguVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_date"]
        verbose_name = "version des conditions générales d'utilisation"

    def __str__(self) -> str:
        return f"CGU du {self.effective_date:%d/%m/%Y}"

    @property
    def slug(self) -> str:
        return self.effective_date.isoformat()


class AcceptanceChannel(models.TextChoices):
    SUBSCRIPTION = "subscription", "Adhésion en ligne"
    MEMBER_SPACE = "member_space", "Espace adhérent"


class TermsAcceptance(models.Model):
    """A member's acceptance of one version of the terms of use: which, when, through what."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="terms_acceptances")
    version = models.ForeignKey(
        CguVersion,
        on_delete=models.PROTECT,
        related_name="acceptances",
        verbose_name="version des conditions acceptée",
    )
    accepted_at = models.DateTimeField("acceptée le", default=timezone.now)
    channel = models.CharField("canal", max_length=20, choices=AcceptanceChannel.choices)

    class Meta:
        verbose_name = "acceptation des conditions générales d'utilisation"
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "version"], name="one_acceptance_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.version} acceptées le {self.accepted_at:%d/%m/%Y}"


class PolicyNotice(models.Model):
    """That a member was told of a new version of the privacy policy: e-mailed, then read."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="policy_notices")
    version = models.ForeignKey(
        "privacy.PolicyVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="version de la politique de confidentialité",
    )
    emailed_at = models.DateTimeField("avis envoyé le", null=True, blank=True)
    seen_at = models.DateTimeField("lue le", null=True, blank=True)

    class Meta:
        verbose_name = "avis de nouvelle politique de confidentialité"
        constraints = [
            models.UniqueConstraint(fields=["member", "version"], name="one_notice_per_version")
        ]

    def __str__(self) -> str:
        return f"Avis {self.version} pour {self.member_id}"
