"""Staff accounts as the administration service manages them, their recovery codes, and the
requests that need a second administrator's approval (four eyes).

The login itself is ``members.User`` (``kind == staff``, ``role`` = the internal service); what
only staff accounts have lives here, so the member side stays as it is.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

APPROVAL_VALIDITY = datetime.timedelta(days=7)


class StaffAccount(models.Model):
    """The administration's record of one staff account: invitation, departure, anonymisation.

    ``deactivated_at`` is the departure: it starts the account's retention clock
    (``staff/privacy.py``); a reactivation clears it.
    """

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="staff_record",
        verbose_name="compte",
    )
    invited_at = models.DateTimeField("invité le", null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="invité par",
    )
    password_set_at = models.DateTimeField("mot de passe choisi le", null=True, blank=True)
    deactivated_at = models.DateTimeField("désactivé le", null=True, blank=True)
    anonymised_at = models.DateTimeField("anonymisé le", null=True, blank=True)

    class Meta:
        verbose_name = "compte de personnel"
        verbose_name_plural = "comptes de personnels"

    def __str__(self) -> str:
        return f"compte de personnel n° {self.pk}"


class RecoveryCode(models.Model):
    """One single-use recovery code, kept only as a keyed hash (``staff.factors``)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recovery_codes",
        verbose_name="compte",
    )
    digest = models.CharField("empreinte", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)

    class Meta:
        verbose_name = "code de secours"
        verbose_name_plural = "codes de secours"

    def __str__(self) -> str:
        return f"code de secours n° {self.pk}"


class ApprovalKind(models.TextChoices):
    FACTOR_RESET = "factor_reset", "Réinitialiser la double authentification"
    ROLE_GRANT = "role_grant", "Attribuer un rôle à privilèges"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "En attente d'un second administrateur"
    APPROVED = "approved", "Approuvée et appliquée"
    REJECTED = "rejected", "Refusée"
    CANCELLED = "cancelled", "Retirée par son auteur"
    EXPIRED = "expired", "Expirée"


# The only moves a request makes: from pending to one final state.
APPROVAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ApprovalStatus.PENDING: frozenset(
        {
            ApprovalStatus.APPROVED,
            ApprovalStatus.REJECTED,
            ApprovalStatus.CANCELLED,
            ApprovalStatus.EXPIRED,
        }
    ),
    ApprovalStatus.APPROVED: frozenset(),
    ApprovalStatus.REJECTED: frozenset(),
    ApprovalStatus.CANCELLED: frozenset(),
    ApprovalStatus.EXPIRED: frozenset(),
}


class ApprovalQuerySet(models.QuerySet):
    def pending(self) -> ApprovalQuerySet:
        return self.filter(status=ApprovalStatus.PENDING)


class Approval(models.Model):
    """An act that one administrator asks for and another must approve (four eyes): resetting
    a staff member's second factor, granting the DPO or admin role."""

    kind = models.CharField("nature", max_length=20, choices=ApprovalKind.choices)
    status = models.CharField(
        "état", max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="approvals",
        verbose_name="compte concerné",
    )
    role = models.CharField("rôle demandé", max_length=20, blank=True)
    reason = models.CharField("motif", max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="demandée par",
    )
    requested_at = models.DateTimeField("demandée le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="décidée par",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)

    objects = ApprovalQuerySet.as_manager()

    class Meta:
        verbose_name = "demande à approuver"
        verbose_name_plural = "demandes à approuver"
        ordering = ["-requested_at"]
        constraints = [
            # One pending request of a kind per account: a second one would be approved twice.
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=models.Q(status="pending"),
                name="staff_one_pending_approval_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    def can_move_to(self, status: str) -> bool:
        return status in APPROVAL_TRANSITIONS[self.status]

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at
