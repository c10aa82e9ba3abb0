"""Model fields encrypted under the row's person's data key.

Rules:

- The column holds ``version byte + 12-byte nonce + AES-256-GCM ciphertext`` (see
  :mod:`mutualis.vault.services`), sealed with the data key that the model's ``key_field``
  (a ForeignKey or OneToOneField to ``vault.DataKey``) points to.
- The associated data binds each ciphertext to its place: model label, field name and row primary
  key. A ciphertext copied to another row or column does not decrypt (:class:`DecryptionError`);
  so the primary key must be known before INSERT (``UUIDField(default=uuid.uuid4)``), which the
  system check ``vault.E010`` enforces.
- Reading is lazy: the database value is wrapped in a :class:`Sealed` object, decrypted on first
  attribute access and cached there. Assigning a plaintext marks it for encryption in
  ``pre_save``; an unchanged sealed value is written back as is (no re-encryption).
- ``None`` stays ``None``. Once the key is shredded, the value reads as
  :data:`~mutualis.vault.erased.ERASED`.
- An encrypted column cannot be filtered on or written by ``QuerySet.update``/``bulk_update``
  (there is no row to bind to): use a :class:`~mutualis.vault.blind_index.BlindIndexField` for
  exact-match lookups and ``save()``/``bulk_create`` for writes.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, cast

from django import forms
from django.core import checks, exceptions, validators
from django.db import models
from django.db.models.fields import AutoFieldMixin
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init
from django.utils.dateparse import parse_date

from mutualis.vault import services
from mutualis.vault.erased import ERASED, is_erased
from mutualis.vault.exceptions import DecryptionError, KeyShreddedError, VaultError

_UNREAD = object()
Binding = tuple[uuid.UUID | None, str | None]  # (data key id, primary key text)


class Sealed:
    """A ciphertext read from the database; its plaintext is cached after the first read.

    ``binding`` is the (data key id, primary key) the ciphertext was loaded for. The plaintext is
    never pickled nor shown by ``repr``.
    """

    __slots__ = ("_value", "binding", "ciphertext")

    def __init__(self, ciphertext: bytes, binding: Binding | None = None, value: Any = _UNREAD):
        self.ciphertext = ciphertext
        self.binding = binding
        self._value = value

    @property
    def revealed(self) -> bool:
        return self._value is not _UNREAD

    @property
    def value(self) -> Any:
        if self._value is _UNREAD:
            raise VaultError("This sealed value has not been decrypted yet.")
        return self._value

    def reveal(self, value: Any) -> None:
        self._value = value

    def forget(self) -> None:
        """Drop the cached plaintext: the next read decrypts again."""
        self._value = _UNREAD

    def __repr__(self) -> str:
        return f"<Sealed: {len(self.ciphertext)} bytes>"

    __str__ = __repr__

    def __getstate__(self) -> tuple[bytes, Binding | None]:
        return (self.ciphertext, self.binding)

    def __setstate__(self, state: tuple[bytes, Binding | None]) -> None:
        self.ciphertext, self.binding = state
        self._value = _UNREAD


class EncryptedAttribute(DeferredAttribute):
    """Descriptor: decrypts on read, takes plaintext on assignment."""

    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        field = cast(EncryptedField, self.field)
        data = instance.__dict__
        if field.attname not in data:
            field.load_deferred(instance)
        value = data[field.attname]
        if isinstance(value, Sealed):
            return field.reveal(instance, value)
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        data = instance.__dict__
        attname = self.field.attname
        current = data.get(attname)
        if value is None or isinstance(value, Sealed):
            data[attname] = value
        elif is_erased(value):
            # An erased value cannot be written; the stored ciphertext is kept and read again.
            if isinstance(current, Sealed):
                current.forget()
            else:
                data[attname] = None
        elif isinstance(current, Sealed) and _same(current, value):
            pass  # assigning back what was read changes nothing: no re-encryption
        else:
            data[attname] = value  # encrypted in pre_save


def _same(sealed: Sealed, value: Any) -> bool:
    return sealed.revealed and bool(sealed.value == value)


class EncryptedField(models.Field):
    """Base class: subclasses define :meth:`encode`, :meth:`decode` and :meth:`to_python`."""

    is_encrypted = True
    descriptor_class = EncryptedAttribute
    description = "Encrypted under the person's data key"

    def __init__(self, *args: Any, key_field: str = "data_key", **kwargs: Any) -> None:
        self.key_field = key_field
        self._aad_prefix: tuple[type[models.Model], bytes] | None = None
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.key_field != "data_key":
            kwargs["key_field"] = self.key_field
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "BinaryField"

    def contribute_to_class(  # type: ignore[override]
        self, cls: type[models.Model], name: str, **kwargs: Any
    ) -> None:
        super().contribute_to_class(cls, name, **kwargs)
        if not cls._meta.abstract:
            post_init.connect(self._bind_loaded, sender=cls)

    # --- Plaintext codec (subclasses) -------------------------------------------------------
    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, raw: bytes) -> Any:
        raise NotImplementedError

    # --- Binding ----------------------------------------------------------------------------
    def key_attname(self) -> str:
        key = self.model._meta.get_field(self.key_field)
        assert isinstance(key, models.Field)  # a concrete relation (system check vault.E001)
        return key.attname

    def binding_of(self, instance: models.Model) -> Binding:
        key_id = getattr(instance, self.key_attname())
        pk = instance.pk
        return (
            None if key_id is None else services._as_uuid(key_id),
            None if pk is None else str(instance._meta.pk.to_python(pk)),
        )

    def aad(self, pk_text: str) -> bytes:
        """``mutualis:field NUL model label NUL field name NUL primary key``."""
        cached = self._aad_prefix
        if cached is None or cached[0] is not self.model:
            # Built once per field and model (the same for every row): a bulk write seals
            # tens of thousands of values.
            prefix = b"\x00".join(
                [b"mutualis:field", self.model._meta.label_lower.encode(), self.name.encode(), b""]
            )
            cached = self._aad_prefix = (self.model, prefix)
        return cached[1] + pk_text.encode()

    def _bind_loaded(self, instance: models.Model, **kwargs: Any) -> None:
        value = instance.__dict__.get(self.attname)
        if isinstance(value, Sealed) and value.binding is None:
            value.binding = self.binding_of(instance)

    def _where(self, pk_text: str | None) -> str:
        return f"{self.model._meta.label}.{self.name} (row {pk_text})"

    def _data_key(self, instance: models.Model, key_id: uuid.UUID | None, pk_text: str | None):
        from mutualis.vault.models import DataKey

        if key_id is None:
            raise DecryptionError(f"{self._where(pk_text)} has no data key.")
        current = getattr(instance, self.key_attname())
        try:
            if current is not None and services._as_uuid(current) == key_id:
                return getattr(instance, self.key_field)
            return DataKey.objects.get(pk=key_id)
        except DataKey.DoesNotExist:
            raise DecryptionError(
                f"{self._where(pk_text)}: data key {key_id} is missing."
            ) from None

    # --- Reading ----------------------------------------------------------------------------
    def load_deferred(self, instance: models.Model) -> None:
        """Load a deferred column as ciphertext (no plaintext round trip)."""
        manager = type(instance)._base_manager.db_manager(instance._state.db)
        value = manager.filter(pk=instance.pk).values_list(self.attname, flat=True).get()
        if isinstance(value, Sealed):
            value.binding = self.binding_of(instance)
        instance.__dict__[self.attname] = value

    def reveal(self, instance: models.Model, sealed: Sealed) -> Any:
        """The plaintext of ``sealed`` (ERASED once the key is shredded), cached on it."""
        if sealed.revealed:
            return sealed.value
        if sealed.binding is None:
            sealed.binding = self.binding_of(instance)
        key_id, pk_text = sealed.binding
        data_key = self._data_key(instance, key_id, pk_text)
        try:
            raw = services.decrypt_for(data_key, sealed.ciphertext, self.aad(pk_text or ""))
        except KeyShreddedError:
            value = ERASED
        except DecryptionError:
            raise DecryptionError(
                f"{self._where(pk_text)} does not decrypt: the value was altered, moved from "
                "another row or column, or sealed under another person's key."
            ) from None
        else:
            value = self.decode(raw)
        sealed.reveal(value)
        return value

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Sealed | None:
        return None if value is None else Sealed(bytes(value))

    # --- Writing ----------------------------------------------------------------------------
    def pre_save(self, model_instance: models.Model, add: bool) -> bytes | None:
        data = model_instance.__dict__
        value = data.get(self.attname)
        if value is None:
            return None
        binding = self.binding_of(model_instance)
        if isinstance(value, Sealed):
            if value.binding is None or value.binding == binding:
                value.binding = binding
                return value.ciphertext
            # The row's identity changed (copied object, new key): seal again for this row.
            value = self.reveal(model_instance, value)
            if is_erased(value):
                data[self.attname] = None
                return None
        key_id, pk_text = binding
        if pk_text is None:
            raise VaultError(
                f"{self.model._meta.label}.{self.name}: the primary key must be set before "
                "saving (it is bound into the ciphertext); use UUIDField(default=uuid.uuid4)."
            )
        if key_id is None:
            raise VaultError(f"{self._where(pk_text)}: set {self.key_field} before saving.")
        plaintext = self.to_python(value)
        data_key = self._data_key(model_instance, key_id, pk_text)
        ciphertext = self._seal(plaintext, data_key, pk_text)
        data[self.attname] = Sealed(ciphertext, binding, plaintext)
        return ciphertext

    def seal(self, value: Any, *, data_key: Any, pk: Any) -> bytes:
        """The ciphertext ``pre_save`` would store for plaintext ``value`` (not ``None``) in the
        row whose primary key is ``pk``, sealed with ``data_key`` (the row's ``DataKey``).

        For bulk writers that build no model instance (the member import): the binding is the
        same, so the row reads back through the model like any saved one.
        """
        return self._seal(self.to_python(value), data_key, str(self.model._meta.pk.to_python(pk)))

    def unseal(self, value: Any, *, data_key: Any, pk: Any) -> Any:
        """The plaintext of ``value`` (a ``Sealed`` or the raw ciphertext, as ``values_list``
        gives it) read from the row whose primary key is ``pk``, under ``data_key`` (the row's
        ``DataKey``); ``ERASED`` once that key is shredded, ``None`` stays ``None``.

        For bulk readers that build no model instance (a debit file of a million rows): the
        binding is the one ``reveal`` checks, so a value moved to another row still fails.
        """
        if value is None:
            return None
        ciphertext = value.ciphertext if isinstance(value, Sealed) else bytes(value)
        pk_text = str(self.model._meta.pk.to_python(pk))
        try:
            raw = services.decrypt_for(data_key, ciphertext, self.aad(pk_text))
        except KeyShreddedError:
            return ERASED
        except DecryptionError:
            raise DecryptionError(f"{self._where(pk_text)} does not decrypt.") from None
        return self.decode(raw)

    def _seal(self, plaintext: Any, data_key: Any, pk_text: str) -> bytes:
        return services.encrypt_for(data_key, self.encode(plaintext), self.aad(pk_text))

    def get_prep_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.ciphertext
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise VaultError(
            f"{self.model._meta.label}.{self.name} is encrypted: a plaintext cannot be written "
            "or compared outside its row. Save the model instance, or look values up through a "
            "BlindIndexField."
        )

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        return None if value is None else connection.Database.Binary(value)

    # --- Validation and forms ---------------------------------------------------------------
    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        if not is_erased(value):
            super().validate(value, model_instance)

    def run_validators(self, value: Any) -> None:
        if not is_erased(value):
            super().run_validators(value)

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return "" if value is None else str(value)

    # --- Checks -----------------------------------------------------------------------------
    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_key_field(), *self._check_primary_key()]

    def _check_key_field(self) -> list[checks.CheckMessage]:
        try:
            key = self.model._meta.get_field(self.key_field)
        except exceptions.FieldDoesNotExist:
            key = None
        target = getattr(key, "related_model", None)
        if (
            key is not None
            and (key.many_to_one or key.one_to_one)
            and getattr(getattr(target, "_meta", None), "label_lower", "") == "vault.datakey"
        ):
            return []
        return [
            checks.Error(
                f"{self.model._meta.label}.{self.name}: key_field {self.key_field!r} must be a "
                "ForeignKey or OneToOneField to vault.DataKey.",
                hint="Add data_key = models.ForeignKey('vault.DataKey', on_delete=models.PROTECT)"
                " or name the right field with key_field=...",
                obj=self,
                id="vault.E011",
            )
        ]

    def _check_primary_key(self) -> list[checks.CheckMessage]:
        if not isinstance(self.model._meta.pk, AutoFieldMixin):
            return []
        return [
            checks.Error(
                f"{self.model._meta.label} has an encrypted field ({self.name}) but an "
                "auto-increment primary key: ciphertexts are bound to the primary key, which "
                "must be known before INSERT.",
                hint="Use id = models.UUIDField(primary_key=True, default=uuid.uuid4, "
                "editable=False).",
                obj=self,
                id="vault.E010",
            )
        ]


class EncryptedTextField(EncryptedField):
    """Text encrypted under the person's data key (NIR, IBAN...)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, raw: bytes) -> str:
        return raw.decode("utf-8")

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str | Sealed):
            return value
        return str(value)

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(
            **{"form_class": forms.CharField, "max_length": self.max_length, **kwargs}
        )


class EncryptedDateField(EncryptedField):
    """A date (e.g. birth date) stored as encrypted ISO text."""

    empty_strings_allowed = False
    default_error_messages = {
        "invalid": "« %(value)s » n'est pas une date valide (AAAA-MM-JJ).",
    }

    def encode(self, value: datetime.date) -> bytes:
        return value.isoformat().encode("ascii")

    def decode(self, raw: bytes) -> datetime.date:
        return datetime.date.fromisoformat(raw.decode("ascii"))

    def to_python(self, value: Any) -> Any:
        if value is None or is_erased(value) or isinstance(value, Sealed):
            return value
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            parsed = parse_date(str(value))
        except ValueError:
            parsed = None
        if parsed is None:
            raise exceptions.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return parsed

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(**{"form_class": forms.DateField, **kwargs})
