"""Blind indexes: keyed HMACs of encrypted values, for exact-match lookups (duplicate NIR check).

Rules:

- ``blind_index(value, purpose=...)`` is the hex HMAC-SHA256 of the UTF-8 value under a subkey
  derived per purpose: ``HMAC(blind-index key, "mutualis:blind-index:" + purpose)``. The same
  value gives different indexes for different purposes, and the blind-index key is separate from
  the master keys.
- A :class:`BlindIndexField` is computed in ``pre_save`` from the plaintext of its source
  encrypted field, after the normalizer; an empty or ``None`` source gives ``None``.
- Shredding a person's data key clears their blind indexes (they are derived from their data).
- Saving with ``update_fields`` must name the index too when its source changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from django.core import checks, exceptions
from django.db import models

from mutualis.vault.erased import is_erased
from mutualis.vault.fields import Sealed
from mutualis.vault.keys import blind_index_key

_DOMAIN = b"mutualis:blind-index:"


def _hmac(key: bytes, message: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


@lru_cache(maxsize=64)
def _subkey(key: bytes, purpose: str) -> bytes:
    return _hmac(key, _DOMAIN + purpose.encode("utf-8"))


def blind_index(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under the blind-index subkey of ``purpose``."""
    if not purpose:
        raise ValueError("a blind index needs a purpose")
    return _hmac(_subkey(blind_index_key(), purpose), value.encode("utf-8")).hex()


def compact_upper(value: str) -> str:
    """Normalizer for identifiers typed with spaces (NIR, IBAN): drop whitespace, upper-case."""
    return "".join(value.split()).upper()


_DEFAULTS = {"max_length": 64, "db_index": True, "null": True, "blank": True, "editable": False}


class BlindIndexField(models.CharField):
    """``BlindIndexField(source="nir", purpose="nir", normalizer=compact_upper)``."""

    is_encrypted = False
    description = "Keyed HMAC of an encrypted field"

    def __init__(
        self,
        *args: Any,
        source: str,
        purpose: str,
        normalizer: Callable[[str], str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not purpose:
            raise ValueError("BlindIndexField needs a purpose")
        if normalizer is not None and not callable(normalizer):
            raise TypeError("normalizer must be callable")
        self.source, self.purpose, self.normalizer = source, purpose, normalizer
        for name, value in _DEFAULTS.items():
            kwargs.setdefault(name, value)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        for option, default in _DEFAULTS.items():
            actual = getattr(self, option)
            if actual == default:
                kwargs.pop(option, None)
            else:
                kwargs[option] = actual
        kwargs["source"], kwargs["purpose"] = self.source, self.purpose
        if self.normalizer is not None:
            kwargs["normalizer"] = self.normalizer
        return name, path, args, kwargs

    def index_for(self, value: Any) -> str | None:
        """The index of a plaintext value, as stored (``None`` for empty or erased values)."""
        if value is None or is_erased(value):
            return None
        text = str(value)
        if self.normalizer is not None:
            text = self.normalizer(text)
        return blind_index(text, purpose=self.purpose) if text else None

    def source_field(self) -> models.Field:
        field = self.model._meta.get_field(self.source)
        assert isinstance(field, models.Field)
        return field

    def key_attname(self) -> str | None:
        """The attname of the data-key column of the source field (used by shredding)."""
        try:
            source: Any = self.source_field()
            return source.key_attname()
        except (exceptions.FieldDoesNotExist, AttributeError):
            return None

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        source = self.source_field()
        data = model_instance.__dict__
        raw = data.get(source.attname, Sealed)  # the class itself marks a deferred source
        current = data.get(self.attname)
        if raw is Sealed or (isinstance(raw, Sealed) and not raw.revealed and current):
            value = current  # the source was not touched since it was loaded
        else:
            value = self.index_for(getattr(model_instance, source.attname))
        setattr(model_instance, self.attname, value)
        return value

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            source = self.source_field()
        except exceptions.FieldDoesNotExist:
            source = None
        if source is None or not getattr(source, "is_encrypted", False):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name}: source {self.source!r} must be an "
                    "encrypted field of the same model.",
                    obj=self,
                    id="vault.E012",
                )
            )
        return errors
