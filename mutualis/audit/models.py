"""The append-only audit log: events, their place in the hash chain, and the disclosure register.

Writing and ordering are two steps, so that writers never wait for one another:

1. :func:`mutualis.audit.services.record` inserts an :class:`Event` in the caller's transaction
   (it commits or rolls back with the write it records). The event carries a keyed MAC of its
   content (:mod:`mutualis.audit.keys`), so it is tamper-evident from the moment it is written.
   No lock is taken: concurrent writers do not wait for each other's commits.
2. The sequencer (:mod:`mutualis.audit.sequencer`, ``manage.py audit_sequence``) takes committed
   events not yet placed, in batches, gives each the next sequence number and a
   :class:`ChainLink` whose SHA-256 covers its number, the previous link's hash, the event's id,
   MAC and content, and moves the :class:`ChainHead`. One sequencer at a time holds the head, so
   the chain never forks nor skips. The head's watermark says up to which event id everything is
   placed: above it, an event without a link is pending.

``manage.py audit_verify`` recomputes every MAC and every link, and checks that no event at or
below the watermark was left out of the chain. On PostgreSQL triggers refuse UPDATE and DELETE
of events and links (the retention engine's pruning, which keeps a checkpoint hash, is the one
exception).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
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
    """The timestamp as signed and hashed: ISO 8601 in UTC, always with microseconds."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(
    *,
    uid: uuid.UUID | str,
    at: datetime,
    actor: str,
    tag: str,
    subject_id: str,
    target: str,
    details: Any,
) -> bytes:
    """An event's content as signed and hashed: JSON, sorted keys, no whitespace, UTF-8.

    ``uid`` (random, unique) binds the content to one event, so a copy of an event is never
    valid twice.
    """
    return canonical_text_content(
        uid=str(uid),
        at=canonical_at(at),
        actor=actor,
        tag=str(tag),
        subject_id=subject_id,
        target=target,
        details=details,
    )


def canonical_text_content(
    *, uid: str, at: str, actor: str, tag: str, subject_id: str, target: str, details: Any
) -> bytes:
    """:func:`canonical_content` from the uid and the timestamp already in their text form."""
    return orjson.dumps(
        {
            "uid": uid,
            "at": at,
            "actor": actor,
            "tag": tag,
            "subject_id": subject_id,
            "target": target,
            "details": details,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def link_hash(*, seq: int, event_id: int, prev_hash: str, mac: str, content: bytes) -> str:
    """SHA-256 of one link: its number, the previous hash, the event's id, MAC and content."""
    head = f"{seq}:{event_id}:{prev_hash}:{mac}:".encode()
    return hashlib.sha256(head + content).hexdigest()


class AppendOnlyError(Exception):
    """An audit record was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    """Audit records are never updated nor deleted through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit records are append-only")


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit records are append-only")


class Event(AppendOnlyModel):
    uid = models.UUIDField("identifiant unique", unique=True, default=uuid.uuid4, editable=False)
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
    mac = models.CharField("code d'authentification", max_length=81)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "événements d'audit"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"événement {self.pk} {self.tag}"

    def content(self) -> bytes:
        return canonical_content(
            uid=self.uid,
            at=self.at,
            actor=self.actor,
            tag=self.tag,
            subject_id=self.subject_id,
            target=self.target,
            details=self.details,
        )

    @property
    def seq(self) -> int | None:
        """The event's place in the chain; None until the sequencer has placed it."""
        try:
            return self.link.seq
        except ChainLink.DoesNotExist:
            return None


class ChainLink(AppendOnlyModel):
    """An event's place in the hash chain, written by the sequencer."""

    seq = models.BigIntegerField("numéro d'ordre", primary_key=True)
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="link")
    hash = models.CharField("empreinte", max_length=64, validators=[_HEX64])

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "maillon de la chaîne d'audit"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"n° {self.seq}"


class ChainHead(models.Model):
    """The single row that remembers the end of the chain; only the sequencer moves it.

    The sequencer locks it for the time of one batch (writers never touch it). ``checkpoint_seq``
    and ``checkpoint_hash`` are the last link removed from the start of the chain by pruning (none
    yet: 0 and the genesis hash); verification starts from them.

    ``watermark``: every event whose id is at most this is placed. The sequencer raises it to
    ``horizon_id`` (the highest id allocated at an earlier pass) once every transaction that was
    running then has ended (``horizon_xmax``, a PostgreSQL transaction id): no event with a lower
    id can appear any more.
    """

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH, validators=[_HEX64])
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_hash = models.CharField(max_length=64, default=GENESIS_HASH, validators=[_HEX64])
    watermark = models.BigIntegerField(default=0)
    horizon_id = models.BigIntegerField(null=True)
    horizon_xmax = models.BigIntegerField(null=True)

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
