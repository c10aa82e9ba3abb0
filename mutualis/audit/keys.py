"""The audit key: the keyed MAC that makes every event tamper-evident from the moment it is written.

``settings.MUTUALIS_AUDIT_KEYS_RAW`` lists url-safe base64 keys of 32 bytes, comma-separated, the
current one first (it signs new events); the others still verify the events they signed, so the
key can change without rewriting history. Each MAC is stored as ``<key id>:<hex>``, the key id
being the first 16 hex characters of the SHA-256 of the key (as for the vault's keys).

The key is separate from the vault's keys: whoever can verify the audit log need not be able to
unwrap anyone's data key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mutualis.vault.keys import decode_key, key_id

AUDIT_KEY_SETTING = "MUTUALIS_AUDIT_KEY"


@dataclass(frozen=True)
class AuditKeyRing:
    """``current`` signs; every key of ``by_id`` verifies (HMAC-SHA256)."""

    current_id: str
    by_id: dict[str, bytes] = field(repr=False)
    # One keyed HMAC state per key, copied for each message: the key's padding is hashed once,
    # not once per event (twice as fast as a new HMAC per message).
    _keyed: dict[str, hmac.HMAC] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keyed = {
            kid: hmac.new(secret, digestmod=hashlib.sha256) for kid, secret in self.by_id.items()
        }
        object.__setattr__(self, "_keyed", keyed)

    def _digest(self, kid: str, content: bytes) -> str:
        state = self._keyed[kid].copy()
        state.update(content)
        return state.hexdigest()

    def sign(self, content: bytes) -> str:
        return f"{self.current_id}:{self._digest(self.current_id, content)}"

    def verifies(self, mac: str, content: bytes) -> bool | None:
        """True or False; None when the MAC names a key this ring does not hold."""
        kid, _, digest = mac.partition(":")
        if kid not in self._keyed:
            return None
        return hmac.compare_digest(self._digest(kid, content), digest)


@lru_cache(maxsize=8)
def parse_audit_keys(raw: str) -> AuditKeyRing:
    if not raw or not raw.strip():
        raise ImproperlyConfigured(
            f"No audit key is configured. Set {AUDIT_KEY_SETTING} or {AUDIT_KEY_SETTING}_FILE."
        )
    found: dict[str, bytes] = {}
    for position, part in enumerate(raw.split(","), start=1):
        secret = decode_key(part, setting=AUDIT_KEY_SETTING, position=position)
        kid = key_id(secret)
        if kid in found:
            raise ImproperlyConfigured(
                f"{AUDIT_KEY_SETTING}: key #{position} repeats an earlier key."
            )
        found[kid] = secret
    return AuditKeyRing(current_id=next(iter(found)), by_id=found)


def audit_key_ring() -> AuditKeyRing:
    """The audit keys from the current settings."""
    return parse_audit_keys(getattr(settings, "MUTUALIS_AUDIT_KEYS_RAW", "") or "")
