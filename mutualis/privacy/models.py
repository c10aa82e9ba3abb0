from __future__ import annotations

from django.db import models


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
