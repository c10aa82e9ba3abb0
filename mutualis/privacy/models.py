from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone


class PolicyVersionQuerySet(models.QuerySet):
    def published(self) -> PolicyVersionQuerySet:
        return self.order_by("-effective_date", "-published_at")


class PolicyVersion(models.Model):
    """A dated, published version of the privacy policy, generated from the declaration.

    Members accept a version; an old version stays readable at its own URL after a new one is
    published. The snapshot is the rendered text, so a later change of the declaration never
    rewrites what a member accepted.
    """

    effective_date = models.DateField("date d'effet", unique=True)
    published_at = models.DateTimeField("publiée le", auto_now_add=True)
    content_hash = models.CharField(max_length=64)
    body_html = models.TextField()

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_date"]
        verbose_name = "version de la politique de confidentialité"

    def __str__(self) -> str:
        return f"Politique du {self.effective_date:%d/%m/%Y}"

    @property
    def slug(self) -> str:
        return self.effective_date.isoformat()


class LegalHoldQuerySet(models.QuerySet):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHold(models.Model):
    """Stops the retention clock for a person or for one record (litigation, authority request).

    Exactly one of ``subject_id`` (a person's id) or ``target`` ("app_label.model:pk") is set.
    """

    subject_id = models.CharField("personne", max_length=64, blank=True, db_index=True)
    target = models.CharField("enregistrement", max_length=150, blank=True, db_index=True)
    reason = models.CharField("motif", max_length=300)
    created_at = models.DateTimeField("posée le", auto_now_add=True)
    created_by = models.CharField("posée par", max_length=100)
    released_at = models.DateTimeField("levée le", null=True, blank=True)
    released_by = models.CharField("levée par", max_length=100, blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = "gel de conservation"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(subject_id="") & ~models.Q(target=""))
                | (~models.Q(subject_id="") & models.Q(target="")),
                name="legal_hold_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"Gel {self.subject_id or self.target} : {self.reason}"


class RetentionRun(models.Model):
    """One run of ``enforce_retention``: what each rule did (or would do, in a dry run)."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField()
    dry_run = models.BooleanField(default=False)
    only_app = models.CharField(max_length=50, blank=True)
    report = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        suffix = " (simulation)" if self.dry_run else ""
        return f"Conservation {self.started_at:%Y-%m-%d %H:%M}{suffix}"


class RestrictionGround(models.TextChoices):
    """Why the use of a person's data is stopped (storage stays allowed)."""

    RESTRICTION = "restriction", "Limitation demandée par la personne (RGPD art. 18)"
    OBJECTION = "objection", "Opposition admise (RGPD art. 21)"
    ERASURE_KEPT = (
        "erasure_kept",
        "Effacement demandé, données conservées pour une obligation légale (RGPD art. 17(3))",
    )


class RestrictionQuerySet(models.QuerySet):
    def active(self) -> RestrictionQuerySet:
        return self.filter(lifted_at__isnull=True)

    def covering(self, purpose_code: str | None) -> RestrictionQuerySet:
        """Restrictions on ``purpose_code`` or on every purpose ("*"); any purpose if None."""
        if purpose_code is None:
            return self
        return self.filter(purpose__in=[purpose_code, "*"])


class Restriction(models.Model):
    """A stop on using one person's data for one purpose, or for all ("*"): storage only.

    Kept by the ground so every service can consult it without importing the rights app (see
    :mod:`mutualis.privacy.restrictions`). ``overrides`` is the log of the DPO's exceptions for
    legal claims (GDPR art. 18(2)): ``{"at", "by", "use", "reason", "until"}`` entries.
    """

    subject_id = models.CharField("personne", max_length=64, db_index=True)
    purpose = models.CharField("finalité", max_length=50)  # a Purpose code, or "*"
    ground = models.CharField("fondement", max_length=20, choices=RestrictionGround.choices)
    reason = models.TextField("motif")
    source = models.CharField("origine", max_length=150, blank=True)  # "app.model:pk"
    started_at = models.DateTimeField("depuis le", default=timezone.now)
    started_by = models.CharField("posée par", max_length=100)
    notice_sent_at = models.DateTimeField("personne prévenue de la levée le", null=True, blank=True)
    lifted_at = models.DateTimeField("levée le", null=True, blank=True)
    lifted_by = models.CharField("levée par", max_length=100, blank=True)
    overrides = models.JSONField("exceptions (constatation de droits en justice)", default=list)
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivée le", null=True, blank=True)

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        verbose_name = "limitation de traitement"
        verbose_name_plural = "limitations de traitement"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Limitation {self.subject_id} ({self.purpose})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    def override_for(self, use: str, at: datetime.datetime) -> dict | None:
        """The DPO's override covering ``use`` at ``at``, if any (latest first)."""
        for entry in reversed(self.overrides or []):
            if entry.get("use") not in (use, "*"):
                continue
            until = entry.get("until")
            if until and datetime.datetime.fromisoformat(until) < at:
                continue
            return entry
        return None
