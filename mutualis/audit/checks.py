"""System checks of the audit key.

- audit.E001: no audit key is configured (deployment checks: development and tests generate one);
- audit.E002: an audit key is malformed, or is also one of the vault's keys.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from mutualis.audit.keys import AUDIT_KEY_SETTING, parse_audit_keys
from mutualis.vault import keys as vault_keys

_FIX = (
    f"Set {AUDIT_KEY_SETTING} or {AUDIT_KEY_SETTING}_FILE (a comma-separated list of url-safe "
    "base64 keys of 32 random bytes, the current key first, distinct from the vault's keys)"
)


def _raw() -> str:
    return getattr(settings, "MUTUALIS_AUDIT_KEYS_RAW", "") or ""


@checks.register("audit", deploy=True)
def check_audit_key_present(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if _raw().strip():
        return []
    return [checks.Error(f"No audit key is configured. {_FIX}.", id="audit.E001")]


@checks.register("audit")
def check_audit_key_format(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    raw = _raw()
    if not raw.strip():
        return []
    try:
        ring = parse_audit_keys(raw)
    except ImproperlyConfigured as exc:
        return [checks.Error(f"{exc} {_FIX}.", id="audit.E002")]
    others: set[str] = set()
    with contextlib.suppress(ImproperlyConfigured):  # reported by the vault's own checks
        others.update(vault_keys.master_key_ring().ids)
    with contextlib.suppress(ImproperlyConfigured):
        others.add(vault_keys.key_id(vault_keys.blind_index_key()))
    if others & set(ring.by_id):
        return [
            checks.Error(
                "An audit key is also a master key or the blind-index key: whoever verifies the "
                f"audit log would hold that key too. {_FIX}.",
                id="audit.E002",
            )
        ]
    return []
