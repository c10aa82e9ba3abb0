"""System checks of the vault's configuration.

- vault.E001: no master key is configured;
- vault.E002: a master key is malformed (not url-safe base64 of 32 bytes, repeated);
- vault.E003: no blind-index key is configured;
- vault.E004: the blind-index key is malformed;
- vault.E005: the blind-index key is also a master key (keys must be separate).

Field-level checks live with the fields: vault.E010 (encrypted field on a model with an
auto-increment primary key), vault.E011 (bad ``key_field``), vault.E012 (bad blind-index source).
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from mutualis.vault import keys

_MASTER_FIX = f"Set {keys.MASTER_KEY_SETTING} or {keys.MASTER_KEY_SETTING}_FILE"
_BLIND_FIX = f"Set {keys.BLIND_INDEX_KEY_SETTING} or {keys.BLIND_INDEX_KEY_SETTING}_FILE"
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
