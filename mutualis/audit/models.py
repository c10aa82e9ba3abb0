"""The append-only, hash-chained audit log and the disclosure register.

Each :class:`Event` carries the SHA-256 of its own content and of the previous event's hash
(``prev_hash``), so editing, deleting or inserting a row breaks the chain and
``manage.py audit_verify`` names the first broken link. Events are written only by
:func:`mutualis.audit.services.record`; on PostgreSQL a trigger also refuses UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from mutualis.audit.tags import TAG_PATTERN

GENESIS_HASH = "0" * 64
CHAIN_HEAD_PK = 1

_HEX64 = RegexValidator(
    r"^[0-9a-f]{64}$", "Empreinte SHA-256 attendue (64 caractères hexadécimaux)."
)


def canonical_at(at: datetime) -> str:
    """The timestamp as hashed: ISO 8601 in UTC, always with microseconds."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def chain_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    tag: str,
    subject_id: str,
    target: str,
    details: Any,
    prev_hash: str,
) -> str:
    """SHA-256 of the canonical JSON form of an event (sorted keys, no whitespace, UTF-8)."""
    payload = {
        "seq": seq,
        "at": canonical_at(at),
        "actor": actor,
        "tag": str(tag),
        "subject_id": subject_id,
        "target": target,
        "details": details,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AppendOnlyError(Exception):
    """An audit event was about to be changed or deleted."""


class EventQuerySet(models.QuerySet):
    """Audit events are never updated nor deleted through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class Event(models.Model):
    seq = models.BigIntegerField("numéro d'ordre", unique=True)
    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    actor = models.CharField("auteur", max_length=100)
    tag = models.CharField(
        "nature",
        max_length=100,
        validators=[RegexValidator(TAG_PATTERN, "Nature attendue : portée:ressource:action.")],
    )
    subject_id = models.CharField("personne concernée", max_length=64, blank=True, db_index=True)
    target = models.CharField("objet", max_length=200, blank=True)
    details = models.JSONField("détails", default=dict, blank=True)
    prev_hash = models.CharField("empreinte précédente", max_length=64, validators=[_HEX64])
    hash = models.CharField("empreinte", max_length=64, validators=[_HEX64])

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "événements d'audit"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"n° {self.seq} {self.tag}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")

    def compute_hash(self) -> str:
        return chain_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            tag=self.tag,
            subject_id=self.subject_id,
            target=self.target,
            details=self.details,
            prev_hash=self.prev_hash,
        )


class ChainHead(models.Model):
    """The single row that serialises appends and remembers the end of the chain.

    ``record()`` locks it (``SELECT ... FOR UPDATE``) for the rest of the caller's transaction, so
    concurrent writers append one after the other and never fork the chain. ``checkpoint_seq`` and
    ``checkpoint_hash`` are the last event removed from the start of the chain (none yet: 0 and the
    genesis hash); verification starts from them.
    """

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH, validators=[_HEX64])
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_hash = models.CharField(max_length=64, default=GENESIS_HASH, validators=[_HEX64])

    class Meta:
        verbose_name = "tête de chaîne d'audit"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=CHAIN_HEAD_PK), name="audit_chainhead_single_row"
            ),
        ]

    def __str__(self) -> str:
        return f"n° {self.last_seq}"


class Disclosure(models.Model):
    """One disclosure of a person's data to a recipient (who got which categories, and why)."""

    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    recipient = models.CharField("destinataire", max_length=64)
    subject_id = models.CharField("personne concernée", max_length=64, db_index=True)
    categories = models.JSONField("catégories de données", default=list)
    reason = models.TextField("motif et base légale")
    actor = models.CharField("auteur", max_length=100)
    event = models.OneToOneField(
        Event, on_delete=models.PROTECT, related_name="disclosure", verbose_name="événement"
    )
    # Intermediate archive (retention engine): restricted, visible to the DPO only.
    archived_at = models.DateTimeField("archivée le", null=True, blank=True)

    class Meta:
        verbose_name = "communication à un destinataire"
        verbose_name_plural = "registre des communications"
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.at:%Y-%m-%d})"


# The security log is a model of this app, kept in its own module.
from mutualis.audit.security import SecurityEvent  # noqa: E402, F401
