"""System checks of the vault's configuration.

- vault.E001: no master key is configured;
- vault.E002: a master key is malformed (not url-safe base64 of 32 bytes, repeated);
- vault.E003: no blind-index key is configured;
- vault.E004: the blind-index key is malformed;
- vault.E005: the blind-index key is also a master key (keys must be separate);
- vault.E006: a backup key is malformed;
- vault.E007: a backup key is also a master key or the blind-index key.

Field-level checks live with the fields: vault.E010 (encrypted field on a model with an
auto-increment primary key), vault.E011 (bad ``key_field``), vault.E012 (bad blind-index source).
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from mutualis.vault import keys

_MASTER_FIX = f"Set {keys.MASTER_KEY_SETTING} or {keys.MASTER_KEY_SETTING}_FILE"
_BLIND_FIX = f"Set {keys.BLIND_INDEX_KEY_SETTING} or {keys.BLIND_INDEX_KEY_SETTING}_FILE"
_BACKUP_FIX = f"Set {keys.BACKUP_KEY_SETTING} or {keys.BACKUP_KEY_SETTING}_FILE"
_FORMAT = "a comma-separated list of url-safe base64 keys of 32 random bytes, the current key first"


_MISSING = {"vault.E001", "vault.E003"}


@checks.register("vault")
def check_key_format(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A key that is set but malformed is an error everywhere."""
    return [e for e in check_keys() if e.id not in _MISSING]


@checks.register("vault", deploy=True)
def check_keys_present(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A missing key is an error for deployment (``check --deploy``, the WSGI entry point).

    Development and tests get generated keys (settings); a command such as ``makemigrations``
    needs none.
    """
    return [e for e in check_keys() if e.id in _MISSING]


def check_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    master_raw = getattr(settings, "MUTUALIS_MASTER_KEYS_RAW", "") or ""
    blind_raw = getattr(settings, "MUTUALIS_BLIND_INDEX_KEY_RAW", "") or ""
    ring = None
    if not master_raw.strip():
        errors.append(
            checks.Error(
                f"No master key is configured. {_MASTER_FIX} ({_FORMAT}).", id="vault.E001"
            )
        )
    else:
        try:
            ring = keys.parse_master_keys(master_raw)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(f"{exc} {_MASTER_FIX} ({_FORMAT}).", id="vault.E002"))
    if not blind_raw.strip():
        errors.append(
            checks.Error(
                f"No blind-index key is configured. {_BLIND_FIX} (one url-safe base64 key of 32 "
                "random bytes).",
                id="vault.E003",
            )
        )
        return errors
    try:
        blind = keys.parse_blind_index_key(blind_raw)
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(f"{exc} {_BLIND_FIX}.", id="vault.E004"))
        return errors
    if ring is not None and keys.key_id(blind) in ring.by_id:
        errors.append(
            checks.Error(
                f"The blind-index key is also a master key. {_BLIND_FIX} to a key of its own.",
                id="vault.E005",
            )
        )
    return errors


@checks.register("vault")
def check_backup_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A backup key that is set must be well-formed and must not be another key of the vault.

    A missing one is no error: only the host that runs the backups needs it (the web workers
    should not hold it); ``manage.py backup`` and ``restore`` say so when it is missing.
    """
    raw = getattr(settings, "MUTUALIS_BACKUP_KEYS_RAW", "") or ""
    if not raw.strip():
        return []
    try:
        ring = keys.parse_backup_keys(raw)
    except ImproperlyConfigured as exc:
        return [checks.Error(f"{exc} {_BACKUP_FIX} ({_FORMAT}).", id="vault.E006")]
    others: set[str] = set()
    master_raw = getattr(settings, "MUTUALIS_MASTER_KEYS_RAW", "") or ""
    blind_raw = getattr(settings, "MUTUALIS_BLIND_INDEX_KEY_RAW", "") or ""
    with contextlib.suppress(ImproperlyConfigured):  # reported by the checks above
        others.update(keys.parse_master_keys(master_raw).ids)
    with contextlib.suppress(ImproperlyConfigured):
        others.add(keys.key_id(keys.parse_blind_index_key(blind_raw)))
    if others & set(ring.by_id):
        return [
            checks.Error(
                "A backup key is also a master key or the blind-index key: whoever holds the "
                f"backups would hold that key too. {_BACKUP_FIX} to keys of their own.",
                id="vault.E007",
            )
        ]
    return []
