"""Data keys: creation, wrapping, encryption helpers and crypto-shredding.

Rules:

- A data key is 32 random bytes for AES-256-GCM, wrapped with AES-GCM by the current master key,
  with associated data ``b"mutualis:datakey:" + key UUID bytes`` (a wrapped key copied to another
  row does not unwrap).
- Every ciphertext is ``version byte + 12-byte random nonce + AES-GCM output``; the version byte
  is authenticated with the caller's associated data.
- Unwrapped keys are cached (:mod:`mutualis.vault.cache`) under their wrapped bytes, so a
  shredded key can never be served.
- :func:`shred` destroys the wrapped key, journals it and clears the person's blind indexes, in
  one transaction. It is idempotent.
- :func:`replay_shred` applies a journal entry again after a restore (and journals it if the
  restored journal lacks it); it is idempotent too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils import timezone

from mutualis.vault.cache import data_keys as _cache
from mutualis.vault.erased import ERASED, is_erased
from mutualis.vault.exceptions import (
    DecryptionError,
    KeyShreddedError,
    UnknownMasterKeyError,
    VaultError,
)
from mutualis.vault.keys import MasterKey, master_key_ring
from mutualis.vault.models import DataKey, ShredRecord

__all__ = [
    "ERASED",
    "build_data_key",
    "clear_blind_indexes",
    "clear_blind_indexes_of",
    "clear_key_cache",
    "create_data_key",
    "decrypt_for",
    "decrypter",
    "encrypt_for",
    "is_erased",
    "replay_shred",
    "rewrap",
    "shred",
]

VERSION = b"\x01"
NONCE_BYTES = 12
_HEADER = len(VERSION) + NONCE_BYTES
_TAG_BYTES = 16
WRAP_AAD_PREFIX = b"mutualis:datakey:"
_IN_BATCH = 500  # ids per IN (...) list: SQLite allows at most 999 parameters per statement


# --- Envelope --------------------------------------------------------------------------------
def _seal(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + aead.encrypt(nonce, plaintext, VERSION + aad)


def _open(aead: AESGCM, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < _HEADER + _TAG_BYTES or blob[:1] != VERSION:
        raise InvalidTag
    return aead.decrypt(blob[1:_HEADER], blob[_HEADER:], VERSION + aad)


# --- Wrapping --------------------------------------------------------------------------------
def _wrap_aad(key_id: Any) -> bytes:
    return WRAP_AAD_PREFIX + _as_uuid(key_id).bytes


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _wrapped_bytes(data_key: DataKey) -> bytes | None:
    wrapped = data_key.wrapped_key
    return None if wrapped is None else bytes(wrapped)  # memoryview on PostgreSQL


def _wrap(secret: bytes, key_id: uuid.UUID, master: MasterKey) -> bytes:
    return _seal(master.aead, secret, _wrap_aad(key_id))


def _master_for(key_id: Any, master_key_id: str) -> MasterKey:
    master = master_key_ring().by_id.get(master_key_id)
    if master is None:
        raise UnknownMasterKeyError(
            f"Data key {key_id} is wrapped by master key {master_key_id!r}, which "
            "is not configured. Put that key back at the end of MUTUALIS_MASTER_KEY until "
            "`manage.py rotate_master_key` has run."
        )
    return master


def _unwrap_secret(key_id: Any, master_key_id: str, wrapped: bytes | None) -> bytes:
    if wrapped is None:
        raise KeyShreddedError(f"Data key {key_id} was shredded.")
    master = _master_for(key_id, master_key_id)
    try:
        return _open(master.aead, wrapped, _wrap_aad(key_id))
    except InvalidTag:
        raise DecryptionError(f"Data key {key_id} does not unwrap (altered?).") from None


def _aead_for(data_key: DataKey) -> AESGCM:
    return _cipher(data_key.pk, data_key.wrapped_key, data_key.master_key_id)


def _cipher(key_id: Any, wrapped_key: bytes | memoryview | None, master_key_id: str) -> AESGCM:
    """A data key (as its row stores it) unwrapped into an AES-GCM cipher, from the cache when
    possible."""
    if wrapped_key is None:
        raise KeyShreddedError(f"Data key {key_id} was shredded.")
    wrapped = bytes(wrapped_key)  # memoryview on PostgreSQL
    _master_for(key_id, master_key_id)  # a key removed from the settings stops reading
    key_id = _as_uuid(key_id)
    cache_key = (key_id, master_key_id, wrapped)
    aead = _cache.get(cache_key)
    if aead is None:
        aead = AESGCM(_unwrap_secret(key_id, master_key_id, wrapped))
        _cache.put(cache_key, aead)
    return aead


def clear_key_cache() -> None:
    """Forget every unwrapped key held in memory."""
    _cache.clear()


# --- Data keys -------------------------------------------------------------------------------
def build_data_key() -> DataKey:
    """A new data key, wrapped by the current master key, not saved yet (for bulk_create)."""
    master = master_key_ring().current
    secret = AESGCM.generate_key(bit_length=256)
    data_key = DataKey(id=uuid.uuid4(), master_key_id=master.id)
    data_key.wrapped_key = _wrap(secret, data_key.id, master)
    _cache.put((data_key.id, master.id, data_key.wrapped_key), AESGCM(secret))
    return data_key


def create_data_key() -> DataKey:
    """Create and save a new data key for one person."""
    data_key = build_data_key()
    data_key.save(force_insert=True)
    return data_key


def rewrap(data_key: DataKey) -> bool:
    """Re-wrap ``data_key`` under the current master key, in memory (the caller saves).

    Returns False when there is nothing to do (already current, or shredded).
    """
    master = master_key_ring().current
    if data_key.wrapped_key is None or data_key.master_key_id == master.id:
        return False
    secret = _unwrap_secret(data_key.pk, data_key.master_key_id, _wrapped_bytes(data_key))
    data_key.wrapped_key = _wrap(secret, _as_uuid(data_key.pk), master)
    data_key.master_key_id = master.id
    _cache.put((_as_uuid(data_key.pk), master.id, data_key.wrapped_key), AESGCM(secret))
    return True


# --- Low-level encryption --------------------------------------------------------------------
def encrypt_for(data_key: DataKey, plaintext: bytes | str, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under the person's data key, bound to ``aad``.

    Raises :class:`KeyShreddedError` when the key was shredded.
    """
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    return _seal(_aead_for(data_key), plaintext, aad)


def decrypt_for(data_key: DataKey, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
    """Decrypt what :func:`encrypt_for` produced with the same key and ``aad``.

    Raises :class:`KeyShreddedError` when the key was shredded and :class:`DecryptionError` when
    the ciphertext does not authenticate (altered, moved, or another person's key).
    """
    return _decrypt_with(_aead_for(data_key), ciphertext, aad)


def decrypter(
    key_id: Any, wrapped_key: bytes | memoryview | None, master_key_id: str
) -> Callable[[bytes | memoryview, bytes], bytes]:
    """:func:`decrypt_for` bound to one data key, given as its row stores it (id, wrapped key,
    master key id: a query that reads them beside the values need not load the row as a
    model). For one operation that reads several values under the same key (an export): the
    key is checked and unwrapped (or found in the cache) once, here, rather than once per
    value. Not to be kept beyond that operation: a key shredded afterwards would still decrypt
    through it.

    Raises :class:`KeyShreddedError` when the key was shredded; the function raises
    :class:`DecryptionError` as :func:`decrypt_for` does.
    """
    aead = _cipher(key_id, wrapped_key, master_key_id)
    return lambda ciphertext, aad: _decrypt_with(aead, ciphertext, aad)


def _decrypt_with(aead: AESGCM, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
    try:
        return _open(aead, bytes(ciphertext), aad)
    except InvalidTag:
        raise DecryptionError("The ciphertext does not authenticate under this key.") from None


# --- Crypto-shredding ------------------------------------------------------------------------
def _data_key_of(subject: Any) -> tuple[uuid.UUID, DataKey | None]:
    """The id of the subject's data key, and the DataKey object it holds in memory if any."""
    if isinstance(subject, DataKey):
        return _as_uuid(subject.pk), subject
    in_memory = None
    if isinstance(subject, models.Model):
        try:
            field = subject._meta.get_field("data_key")
        except FieldDoesNotExist:
            field = None
        if isinstance(field, models.ForeignKey):
            cached = field.get_cached_value(subject, default=None)
            in_memory = cached if isinstance(cached, DataKey) else None
    else:
        candidate = getattr(subject, "data_key", None)
        in_memory = candidate if isinstance(candidate, DataKey) else None
    key_id = getattr(subject, "data_key_id", None)
    if key_id is None and in_memory is not None:
        key_id = in_memory.pk
    if key_id is None:
        raise VaultError(f"{type(subject).__name__} has no data key to shred.")
    return _as_uuid(key_id), in_memory


def shred(subject: Any) -> DataKey:
    """Destroy a person's data key (crypto-shredding): their encrypted data reads as ERASED.

    ``subject`` is a :class:`DataKey` or any object with a ``data_key`` / ``data_key_id``.
    Nulls the wrapped key, sets ``shredded_at``, journals a :class:`ShredRecord` and clears the
    person's blind indexes in one transaction. Shredding twice does nothing the second time.
    """
    key_id, in_memory = _data_key_of(subject)
    with transaction.atomic():
        data_key = DataKey.objects.select_for_update().get(pk=key_id)
        if data_key.wrapped_key is not None:
            data_key.wrapped_key = None
            data_key.shredded_at = timezone.now()
            data_key.save(update_fields=["wrapped_key", "shredded_at"])
            ShredRecord.objects.create(data_key_id=key_id, shredded_at=data_key.shredded_at)
        clear_blind_indexes(key_id)
    _cache.discard(key_id)
    for obj in (in_memory, subject):
        if isinstance(obj, DataKey):
            obj.wrapped_key, obj.shredded_at = None, data_key.shredded_at
    if isinstance(subject, models.Model) and not isinstance(subject, DataKey):
        _forget_plaintext(subject)
    return data_key


def replay_shred(data_key_id: uuid.UUID, shredded_at: datetime) -> bool:
    """Apply one journal entry again (restore of a backup taken before the erasure).

    Destroys the key if it is still present, clears the person's blind indexes and puts the
    entry back in the journal if it is missing there, in one transaction (architecture.md §5: a
    person erased after a backup stays erased after a restore). Returns True when the key was still
    present and is now destroyed.
    """
    key_id = _as_uuid(data_key_id)
    with transaction.atomic():
        updated = DataKey.objects.filter(pk=key_id, wrapped_key__isnull=False).update(
            wrapped_key=None, shredded_at=shredded_at
        )
        if not ShredRecord.objects.filter(data_key_id=key_id).exists():
            ShredRecord.objects.create(data_key_id=key_id, shredded_at=shredded_at)
        clear_blind_indexes(key_id)
    _cache.discard(key_id)
    return bool(updated)


def _blind_index_targets() -> Iterator[tuple[type[models.Model], str, str]]:
    """(model, key attname, blind-index attname) for every installed blind index."""
    from mutualis.vault.blind_index import BlindIndexField

    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, BlindIndexField):
                key_attname = field.key_attname()
                if key_attname:
                    yield model, key_attname, field.attname


def clear_blind_indexes(data_key_id: uuid.UUID) -> None:
    """Null the blind indexes of every row sealed with this key (they are derived data)."""
    clear_blind_indexes_of([data_key_id])


def clear_blind_indexes_of(data_key_ids: Collection[uuid.UUID]) -> int:
    """Null the blind indexes of every row sealed with any of these keys; returns rows changed."""
    changed = 0
    ids = list(data_key_ids)
    for model, key_attname, index_attname in _blind_index_targets():
        for start in range(0, len(ids), _IN_BATCH):
            changed += (
                model._base_manager.filter(**{f"{key_attname}__in": ids[start : start + _IN_BATCH]})
                .exclude(**{f"{index_attname}__isnull": True})
                .update(**{index_attname: None})
            )
    return changed


def _forget_plaintext(instance: models.Model) -> None:
    """Drop decrypted values cached on ``instance``: they must now read as ERASED."""
    from mutualis.vault.fields import Sealed

    for field in instance._meta.concrete_fields:
        if getattr(field, "is_encrypted", False):
            value = instance.__dict__.get(field.attname)
            if isinstance(value, Sealed):
                value.forget()
