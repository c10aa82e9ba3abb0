"""The key store: one data key per person, and the erasure journal.

Rules:

- A data key is 32 random bytes (AES-256-GCM), stored only *wrapped* by a master key (which
  never touches the database); ``master_key_id`` says which one.
- Crypto-shredding sets ``wrapped_key`` to NULL: the person's encrypted fields become unreadable
  everywhere, backups of the data included, since the key store is backed up apart.
- Each shredding is journaled in :class:`ShredRecord`, in the same transaction, so that a restore
  can replay it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class DataKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped_key = models.BinaryField(null=True)
    master_key_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    shredded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "clé de données"
        verbose_name_plural = "clés de données"

    def __str__(self) -> str:
        return f"DataKey {self.id}{' (détruite)' if self.is_shredded else ''}"

    @property
    def is_shredded(self) -> bool:
        return self.wrapped_key is None


class ShredRecord(models.Model):
    """One entry of the erasure journal: this data key was destroyed at that time."""

    data_key_id = models.UUIDField(db_index=True)
    shredded_at = models.DateTimeField()

    class Meta:
        verbose_name = "effacement cryptographique"
        verbose_name_plural = "journal des effacements cryptographiques"
        ordering = ["shredded_at", "id"]

    def __str__(self) -> str:
        return f"ShredRecord {self.data_key_id} {self.shredded_at:%Y-%m-%d %H:%M:%S}"
