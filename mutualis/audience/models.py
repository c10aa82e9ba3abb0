"""First-party audience statistics (policy section II), kept as the CNIL exemption requires.

- :class:`AudienceEvent` is one raw event sent by the site's own script: a page shown, or the
  time it stayed visible when left. It names the browser only by the random identifier of the
  audience cookie (never an account, an address or an IP address), the page by its route (never
  its path, which may hold an id), the browser by its family. Raw events are kept 25 months at
  most (declaration), then only their aggregates remain.
- :class:`DailyAggregate` holds the anonymous figures of one day (visits, visitors, pages,
  browsers, durations, returns), computed from the raw events; :class:`AggregatedDay` records
  that a day was aggregated, from how many events.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    VIEW = "view", "Page affichée"
    LEAVE = "leave", "Page quittée"


class AudienceEvent(models.Model):
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    visitor = models.CharField("identifiant aléatoire du navigateur", max_length=32)
    visitor_since = models.DateField("première visite")
    kind = models.CharField("événement", max_length=10, choices=EventKind.choices)
    page = models.CharField("page", max_length=120)
    browser = models.CharField("navigateur", max_length=40)
    duration_ms = models.PositiveIntegerField("temps passé sur la page (ms)", null=True)

    class Meta:
        verbose_name = "événement de mesure d'audience"
        verbose_name_plural = "événements de mesure d'audience"
        indexes = [models.Index(fields=["visitor", "at"], name="audience_visitor_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.page} ({self.at:%Y-%m-%d %H:%M})"


class Dimension(models.TextChoices):
    TOTAL = "total", "Ensemble"
    PAGE = "page", "Page"
    BROWSER = "browser", "Navigateur"
    DURATION = "duration", "Durée de visite"
    RETURN = "return", "Fréquence de retour"


class DailyAggregate(models.Model):
    """One figure of one day: ``(day, dimension, key) -> value`` (no visitor in it)."""

    day = models.DateField("jour")
    dimension = models.CharField("dimension", max_length=20, choices=Dimension.choices)
    key = models.CharField("valeur", max_length=120)
    value = models.PositiveBigIntegerField("nombre")

    class Meta:
        verbose_name = "statistique journalière"
        verbose_name_plural = "statistiques journalières"
        constraints = [
            models.UniqueConstraint(fields=["day", "dimension", "key"], name="audience_daily_key")
        ]
        indexes = [models.Index(fields=["dimension", "day"], name="audience_dimension_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}:{self.key} = {self.value}"


class AggregatedDay(models.Model):
    day = models.DateField("jour", primary_key=True)
    aggregated_at = models.DateTimeField("agrégé le", default=timezone.now)
    events = models.PositiveIntegerField("événements bruts")

    class Meta:
        verbose_name = "jour agrégé"
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} ({self.events} événements)"
