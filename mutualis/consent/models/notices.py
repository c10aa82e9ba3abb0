"""The notices shown when a consent is asked, in versions, and the documents staff record.

- :class:`ConsentNotice` is the exact text a person reads before ticking a box (member space,
  online subscription) or that a member of staff reads out on the phone or prints on a form: one
  text per topic, in numbered versions. A version is never changed — a new text is a new version
  — so a consent record names precisely what the person agreed to (GDPR art. 7(1); EDPB
  guidelines 05/2020 on consent, §§ 104-108: keep the version of the information shown).
- :class:`ConsentDocument` is what a member of staff recorded a consent or a withdrawal from: the
  letter or form received (scan), or the note of the call. It belongs to one consent event and
  goes with it.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from mutualis.consent.models.choices import AppendOnly, Topic


class ConsentNoticeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("a notice version is never changed: publish a new version")


class ConsentNotice(models.Model):
    topic = models.CharField("communication", max_length=20, choices=Topic.choices)
    version = models.PositiveIntegerField("version")
    text = models.TextField("texte de la mention")
    published_at = models.DateTimeField("en vigueur depuis le", default=timezone.now)
    published_by = models.CharField("publiée par", max_length=100)

    objects = ConsentNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "mention de consentement"
        verbose_name_plural = "mentions de consentement"
        ordering = ["topic", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "version"], name="consent_notice_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} — version {self.version}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnly("a notice version is never changed: publish a new version")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("a notice version is proof of what was shown: it is never deleted")

    @property
    def reference(self) -> str:
        """How receipts and documents name it: ``newsletter-v2``."""
        return f"{self.topic}-v{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class ConsentDocument(models.Model):
    """The document a consent or withdrawal recorded by staff rests on."""

    event = models.OneToOneField(
        "consent.ConsentEvent",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="document",
        verbose_name="choix enregistré",
    )
    note = models.TextField("note du conseiller", blank=True)
    filename = models.CharField("nom du fichier", max_length=255, blank=True)
    content_type = models.CharField("type du fichier", max_length=100, blank=True)
    size = models.PositiveIntegerField("taille (octets)", default=0)
    sha256 = models.CharField("empreinte SHA-256 du fichier", max_length=64, blank=True)
    content = models.BinaryField("contenu du fichier", blank=True, default=b"")

    class Meta:
        verbose_name = "justificatif d'un choix de communication"
        verbose_name_plural = "justificatifs des choix de communication"

    def __str__(self) -> str:
        return self.filename or "note d'appel"
