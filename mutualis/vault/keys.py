"""Master keys, the blind-index key and the backup keys, parsed strictly from the settings.

Rules:

- ``settings.MUTUALIS_MASTER_KEYS_RAW`` is a comma-separated list of url-safe base64 keys of
  32 bytes each. The first is the *current* key (it wraps new data keys); the others are only
  accepted for unwrapping, until ``manage.py rotate_master_key`` has re-wrapped everything.
- A master key's id is the first 16 hex characters of the SHA-256 of its bytes; it is stored
  next to each wrapped data key.
- ``settings.MUTUALIS_BLIND_INDEX_KEY_RAW`` is one url-safe base64 key of 32 bytes.
- ``settings.MUTUALIS_BACKUP_KEYS_RAW`` lists the backup keys like the master keys (current
  first, older ones accepted for reading old backups); see :mod:`mutualis.vault.backup`.
- Anything malformed raises ``ImproperlyConfigured`` naming the key's position, never its value.

Parsing is cached on the raw setting string, so a changed setting (``override_settings``, a
rotation) is picked up at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
MASTER_KEY_SETTING = "MUTUALIS_MASTER_KEY"
BLIND_INDEX_KEY_SETTING = "MUTUALIS_BLIND_INDEX_KEY"
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def decode_key(text: str, *, setting: str, position: int | None = None) -> bytes:
    """Decode one url-safe base64 key of exactly 32 bytes (padding optional)."""
    where = f"{setting}: key #{position}" if position is not None else setting
    text = text.strip()
    if not text:
        raise ImproperlyConfigured(f"{where} is empty.")
    if not _URLSAFE_B64.fullmatch(text):
        raise ImproperlyConfigured(f"{where} is not url-safe base64 (A-Z, a-z, 0-9, '-', '_').")
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{where} is not valid url-safe base64.") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{where} decodes to {len(raw)} bytes; a key must be {KEY_BYTES} random bytes "
            '(generate one with: python -c "import base64, secrets; '
            'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())").'
        )
    return raw


def key_id(key: bytes) -> str:
    """The public id of a master key: 16 hex characters of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    id: str
    aead: AESGCM = field(repr=False, compare=False)


@dataclass(frozen=True)
class MasterKeyRing:
    """The configured master keys: ``current`` wraps, all of ``by_id`` unwrap."""

    current: MasterKey
    by_id: dict[str, MasterKey]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.by_id)


@lru_cache(maxsize=8)
def parse_master_keys(raw: str) -> MasterKeyRing:
    """Parse the comma-separated master keys (current first)."""
    if not raw or not raw.strip():
        raise ImproperlyConfigured(
            f"No master key is configured. Set {MASTER_KEY_SETTING} or {MASTER_KEY_SETTING}_FILE."
        )
    keys: dict[str, MasterKey] = {}
    for position, part in enumerate(raw.split(","), start=1):
        secret = decode_key(part, setting=MASTER_KEY_SETTING, position=position)
        kid = key_id(secret)
        if kid in keys:
            raise ImproperlyConfigured(
                f"{MASTER_KEY_SETTING}: key #{position} repeats an earlier key."
            )
        keys[kid] = MasterKey(id=kid, aead=AESGCM(secret))
    return MasterKeyRing(current=next(iter(keys.values())), by_id=keys)


def master_key_ring() -> MasterKeyRing:
    """The master keys from the current settings."""
    return parse_master_keys(getattr(settings, "MUTUALIS_MASTER_KEYS_RAW", "") or "")


@lru_cache(maxsize=8)
def parse_blind_index_key(raw: str) -> bytes:
    if not raw or not raw.strip():
        raise ImproperlyConfigured(
            f"No blind-index key is configured. Set {BLIND_INDEX_KEY_SETTING} or "
            f"{BLIND_INDEX_KEY_SETTING}_FILE."
        )
    if "," in raw:
        raise ImproperlyConfigured(f"{BLIND_INDEX_KEY_SETTING} must hold exactly one key.")
    return decode_key(raw, setting=BLIND_INDEX_KEY_SETTING)


def blind_index_key() -> bytes:
    """The blind-index key from the current settings."""
    return parse_blind_index_key(getattr(settings, "MUTUALIS_BLIND_INDEX_KEY_RAW", "") or "")


# --- Backup keys -----------------------------------------------------------------------------
BACKUP_KEY_SETTING = "MUTUALIS_BACKUP_KEY"


@dataclass(frozen=True)
class BackupKey:
    """A backup key: its public id (named in each backup's header) and its secret bytes."""

    id: str
    secret: bytes = field(repr=False, compare=False)


@dataclass(frozen=True)
class BackupKeyRing:
    """The configured backup keys: ``current`` encrypts new backups, all of ``by_id`` read."""

    current: BackupKey
    by_id: dict[str, BackupKey]


@lru_cache(maxsize=8)
def parse_backup_keys(raw: str) -> BackupKeyRing:
    """Parse the comma-separated backup keys (current first), like the master keys."""
    if not raw or not raw.strip():
        raise ImproperlyConfigured(
            f"No backup key is configured. Set {BACKUP_KEY_SETTING} or {BACKUP_KEY_SETTING}_FILE."
        )
    found: dict[str, BackupKey] = {}
    for position, part in enumerate(raw.split(","), start=1):
        secret = decode_key(part, setting=BACKUP_KEY_SETTING, position=position)
        kid = key_id(secret)
        if kid in found:
            raise ImproperlyConfigured(
                f"{BACKUP_KEY_SETTING}: key #{position} repeats an earlier key."
            )
        found[kid] = BackupKey(id=kid, secret=secret)
    return BackupKeyRing(current=next(iter(found.values())), by_id=found)


def backup_key_ring() -> BackupKeyRing:
    """The backup keys from the current settings."""
    return parse_backup_keys(getattr(settings, "MUTUALIS_BACKUP_KEYS_RAW", "") or "")
