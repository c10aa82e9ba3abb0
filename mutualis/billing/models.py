"""SEPA direct-debit mandates (SDD Core). Premiums and debit batches come later."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

from mutualis.members import validators
from mutualis.members.models import Member
from mutualis.vault.erased import is_erased
from mutualis.vault.fields import EncryptedTextField


def new_mandate_reference() -> str:
    """Unique mandate reference (RUM): ≤ 35 characters, no personal data in it."""
    return f"RUM-{timezone.localdate():%Y%m%d}-{secrets.token_hex(8).upper()}"


class MandateQuerySet(models.QuerySet):
    def current(self) -> MandateQuerySet:
        return self.filter(ended_at__isnull=True)


class Mandate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="mandates")
    # The IBAN is encrypted under the member's own data key.
    data_key = models.ForeignKey("vault.DataKey", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField("référence unique du mandat (RUM)", max_length=35, unique=True)
    creditor_identifier = models.CharField("identifiant créancier SEPA (ICS)", max_length=35)
    debtor_name = models.CharField("titulaire du compte", max_length=140)
    iban = EncryptedTextField("IBAN")
    bic = models.CharField("BIC", max_length=11, blank=True)
    signed_at = models.DateTimeField("signé le", default=timezone.now)
    signed_place = models.CharField("lieu de signature", max_length=100)
    ended_at = models.DateTimeField("révoqué le", null=True, blank=True)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivé le", null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = "mandat SEPA"
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def masked_iban(self) -> str:
        if is_erased(self.iban):
            return str(self.iban)
        return validators.mask_iban(self.iban)
