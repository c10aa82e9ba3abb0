"""Writing the rows of a member import as tuples, without model instances.

An imported member makes about nine rows (data keys, people, member, beneficiaries, contract and
its links, SEPA mandate). Building a model instance for each and letting ``bulk_create`` compile
them costs several times what the database needs to store them, so the import does the same work
directly:

- **One INSERT per table**, built once from the model's ``_meta`` (table, columns), so it follows
  the model. Rows are handed to ``executemany`` through Django's cursor (errors are
  Django's ``IntegrityError``/``DataError``, as with ``bulk_create``).
- **Defaults as the model gives them.** A column the import does not fill takes the field's
  default, converted once; a field that computes its value (callable default, ``auto_now``,
  encrypted field, blind index) must be filled here, which :class:`Table` checks when it is
  built: a field added to a model later cannot be forgotten silently.
- **The ORM's conversion to database values**: the field's own ``get_db_prep_save``, or, for the
  common types, the backend operation it ends in (``connection.ops.adapt_datetimefield_value``,
  ``adapt_datefield_value``, UUID hex where the database has no UUID type; text passes through).
  ``tests/test_import_rows.py`` holds each converter equal to ``get_db_prep_save``.
- **Encryption by the vault fields themselves** (:meth:`EncryptedField.seal`): the same binding to
  model, field and primary key as ``pre_save``, under each person's new data key
  (:func:`vault.build_data_key`); the NIR blind index by the field's ``index_for``.
- **The same values as the services**: people normalised by ``members.services.person_values``
  (as ``build_person``), mandates as ``billing.services.build_mandate`` (the IBAN, validated by
  ``check_application`` just before, is not checked a second time). A test compares the rows read
  back through the models with what those services build.

All the rows of one member are stamped with one instant (its beneficiaries one microsecond apart,
in the order of the file, as the model orders beneficiaries by ``added_at``).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from mutualis.billing import services as billing
from mutualis.billing.models import Mandate, new_mandate_reference
from mutualis.contracts.application import Application
from mutualis.contracts.models import Contract
from mutualis.members.models import Beneficiary, Member, Person
from mutualis.members.services import PersonData, person_values
from mutualis.vault import services as vault
from mutualis.vault.fields import EncryptedField
from mutualis.vault.models import DataKey

Converter = Callable[[Any], Any]


def _passes_text_through(field: models.Field) -> bool:
    """A CharField (or subclass) whose ORM conversion of a ``str`` returns it unchanged."""
    kind = type(field)
    return (
        isinstance(field, models.CharField)
        and kind.to_python is models.CharField.to_python
        and kind.get_prep_value is models.CharField.get_prep_value
        and kind.get_db_prep_value is models.Field.get_db_prep_value
        and kind.get_db_prep_save is models.Field.get_db_prep_save
    )


class Converters:
    """Per connection: the function turning a field's Python value into a database parameter.

    The result is what ``field.get_db_prep_save(value, connection)`` returns for the values the
    import writes (``str`` for text, ``uuid.UUID``, aware ``datetime``, ``date``, ``bytes``,
    ``int``); ``None`` stays ``None``. Fields the import writes many times take the backend
    operation the ORM ends in, skipping its per-value dispatch; the others go through
    ``get_db_prep_save`` itself. Datetimes and integers are memoised: the rows of a member share
    one instant, and foreign keys to offers and policy versions take a handful of values.
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._datetimes: dict[int, tuple[Any, Any]] = {}

    def for_field(self, field: models.Field) -> Converter | None:
        """``None`` when values pass unchanged; a relation converts as the field it targets."""
        target = field.target_field if field.is_relation else field
        kind = type(target)
        if _passes_text_through(target):
            return None
        connection = self.connection
        if kind is models.UUIDField:
            return None if connection.features.has_native_uuid_field else _uuid_hex
        if kind is models.DateTimeField:
            return self._datetime
        if kind is models.DateField:
            return connection.ops.adapt_datefield_value
        if kind is models.BinaryField or isinstance(target, EncryptedField):
            # Both end in Database.Binary(bytes) (encrypted fields get their ciphertext).
            return connection.Database.Binary
        if isinstance(target, models.IntegerField):  # AutoField and foreign keys to it included
            return _memoised(_orm_conversion(target, connection))
        return _orm_conversion(target, connection)

    def _datetime(self, value: Any) -> Any:
        # Keyed by identity (the memo holds the value, so its id cannot be reused meanwhile).
        memo = self._datetimes.get(id(value))
        if memo is not None and memo[0] is value:
            return memo[1]
        if len(self._datetimes) >= 16:
            self._datetimes.clear()
        converted = self.connection.ops.adapt_datetimefield_value(value)
        self._datetimes[id(value)] = (value, converted)
        return converted


def _uuid_hex(value: uuid.UUID) -> str:
    return value.hex


def _orm_conversion(field: models.Field, connection: Any) -> Converter:
    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def _memoised(convert: Converter) -> Converter:
    memo: dict[Any, Any] = {}

    def memoised(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            if len(memo) >= 256:
                memo.clear()
            converted = memo[value] = convert(value)
            return converted

    return memoised


def _fills_itself(field: models.Field) -> bool:
    """Whether the model computes this field's value per row (it cannot take a fixed default)."""
    return (
        (field.has_default() and callable(field.default))
        or field.db_default is not models.NOT_PROVIDED
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        or type(field).pre_save
        not in (models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save)
    )


class Table:
    """A precompiled INSERT into one model's table and the rows waiting for it.

    ``columns`` are the attnames the caller gives, in the order of the tuples passed to
    :meth:`add`; every other column gets its field's default (an auto-increment primary key is
    left to the database). Values are converted as rows are added: the rows of one member, added
    one after the other, share their instant, converted once.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str], converters: Converters):
        meta = model._meta
        fields = {field.attname: field for field in meta.local_concrete_fields}
        unknown = [name for name in columns if name not in fields]
        if unknown:
            raise ValueError(f"{meta.label} has no column {', '.join(unknown)}")
        given = [fields[name] for name in columns]
        rest = [
            field
            for field in meta.local_concrete_fields
            if field.attname not in columns
            and not (field.primary_key and isinstance(field, AutoFieldMixin))
        ]
        missing = [field.attname for field in rest if _fills_itself(field)]
        if missing:
            raise ValueError(
                f"{meta.label}: the import must give a value for {', '.join(missing)} (computed "
                "per row by the model)"
            )
        connection = converters.connection
        self.model = model
        self.columns = tuple(columns)
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        self._convert = [
            (i, convert)
            for i, field in enumerate(given)
            if (convert := converters.for_field(field)) is not None
        ]
        quote = connection.ops.quote_name
        names = ", ".join(quote(field.column) for field in [*given, *rest])
        marks = ", ".join(["%s"] * (len(given) + len(rest)))
        # Names come from the model's _meta, quoted; values are parameters.
        self.sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
        self.rows: list[list] = []

    def add(self, values: Sequence[Any]) -> None:
        """Collect one row: the Python values of ``columns``, in that order."""
        row = list(values)
        for i, convert in self._convert:
            value = row[i]
            if value is not None:
                row[i] = convert(value)
        row += self.defaults
        self.rows.append(row)

    def insert(self, cursor: Any) -> None:
        rows, self.rows = self.rows, []
        if rows:
            cursor.executemany(self.sql, rows)


class RowWriter:
    """The rows of valid applications, collected table by table and inserted together."""

    # Columns given by the methods below, in the order of their tuples.
    KEY_COLUMNS = ("id", "wrapped_key", "master_key_id", "created_at")
    # Values of members.services.person_values stored as they are, then the others.
    PERSON_VALUES = (
        "civility",
        "last_name",
        "first_names",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "email",
        "phone_landline",
        "phone_mobile",
        "scheme_regime",
        "scheme_caisse",
        "scheme_centre",
        "scheme_organisation",
    )
    PERSON_COLUMNS = (
        "id",
        "data_key_id",
        *PERSON_VALUES,
        "birth_date",
        "nir",
        "nir_index",
        "nir_holder_id",
        "created_at",
        "updated_at",
    )
    MEMBER_COLUMNS = ("id", "person_id", "number", "joined_at", "legacy_reference")
    BENEFICIARY_COLUMNS = ("id", "member_id", "person_id", "role", "added_at")
    CONTRACT_COLUMNS = (
        "id",
        "number",
        "member_id",
        "offer_id",
        "start_date",
        "cgu_version",
        "policy_version_id",
        "accepted_at",
    )
    LINK_COLUMNS = ("contract_id", "beneficiary_id")
    MANDATE_COLUMNS = (
        "id",
        "member_id",
        "data_key_id",
        "reference",
        "creditor_identifier",
        "debtor_name",
        "iban",
        "bic",
        "signed_at",
        "signed_place",
        "previous_iban",  # no amendment pending for a new mandate
    )

    def __init__(
        self,
        connection: Any,
        *,
        offer_ids: dict[str, Any],
        policy_version_id: Any,
        creditor_identifier: str,
        nir_index: Callable[[str], str | None] | None = None,
    ) -> None:
        """``nir_index(normalised NIR)``: the blind index, when the caller has computed it
        already (the import does, to look NIRs up); by default the field computes it."""
        converters = Converters(connection)
        self.connection = connection
        # Foreign-key order: a batch is inserted table by table in this order.
        self.keys = Table(DataKey, self.KEY_COLUMNS, converters)
        self.persons = Table(Person, self.PERSON_COLUMNS, converters)
        self.members = Table(Member, self.MEMBER_COLUMNS, converters)
        self.beneficiaries = Table(Beneficiary, self.BENEFICIARY_COLUMNS, converters)
        self.contracts = Table(Contract, self.CONTRACT_COLUMNS, converters)
        self.links = Table(Contract.beneficiaries.through, self.LINK_COLUMNS, converters)
        self.mandates = Table(Mandate, self.MANDATE_COLUMNS, converters)
        self.offer_ids = offer_ids
        self.policy_version_id = policy_version_id
        self.creditor_identifier = creditor_identifier
        self._birth_date = Person._meta.get_field("birth_date")
        self._nir = Person._meta.get_field("nir")
        self._nir_index = nir_index or Person._meta.get_field("nir_index").index_for
        self._iban = Mandate._meta.get_field("iban")
        self.member_ids: list[uuid.UUID] = []

    @property
    def tables(self) -> tuple[Table, ...]:
        return (
            self.keys,
            self.persons,
            self.members,
            self.beneficiaries,
            self.contracts,
            self.links,
            self.mandates,
        )

    def write(self, applications: Iterable[tuple[Application, str, str]]) -> list[str]:
        """Insert the rows of ``(application, member number, contract number)`` triples, table
        by table; return the ids of the members created.

        The applications are valid (checked by ``check_application``) and the numbers unused.
        Run it inside the caller's transaction: on an error, nothing collected is kept for the
        next call, and the caller decides what to write again.
        """
        try:
            for application, member_number, contract_number in applications:
                self._add(application, member_number=member_number, contract_number=contract_number)
            with self.connection.cursor() as cursor:
                for table in self.tables:
                    table.insert(cursor)
            return [str(member_id) for member_id in self.member_ids]
        finally:
            for table in self.tables:
                table.rows.clear()
            self.member_ids.clear()

    def _add(self, application: Application, *, member_number: str, contract_number: str) -> None:
        """Collect the rows of one application."""
        now = timezone.now()
        person_id, data_key = self._person(application.member, now=now)
        member_id, contract_id = uuid.uuid4(), uuid.uuid4()
        self.members.add((member_id, person_id, member_number, now, application.legacy_reference))
        self.contracts.add(
            (
                contract_id,
                contract_number,
                member_id,
                self.offer_ids[application.offer_code],
                application.start_date,
                application.cgu_version,
                self.policy_version_id,
                now,
            )
        )
        for position, item in enumerate(application.beneficiaries):
            holder_id = person_id if item.attached_to_member_nir else None
            other_id, _key = self._person(item.person, now=now, nir_holder_id=holder_id)
            beneficiary_id = uuid.uuid4()
            # One microsecond apart: the model orders beneficiaries by added_at.
            added_at = now + datetime.timedelta(microseconds=position) if position else now
            self.beneficiaries.add((beneficiary_id, member_id, other_id, item.role, added_at))
            self.links.add((contract_id, beneficiary_id))
        payment = application.payment
        debtor = billing.debtor_fields(
            iban=payment.iban,
            bic=payment.bic,
            debtor_name=payment.debtor_name,
            signed_place=payment.signed_place,
            checked=True,
        )
        mandate_id = uuid.uuid4()
        self.mandates.add(
            (
                mandate_id,
                member_id,
                data_key.pk,  # the IBAN is sealed with the member's own key
                new_mandate_reference(),
                self.creditor_identifier,
                debtor["debtor_name"],
                self._iban.seal(debtor["iban"], data_key=data_key, pk=mandate_id),
                debtor["bic"],
                now,
                debtor["signed_place"],
                None,
            )
        )
        self.member_ids.append(member_id)

    def _person(
        self, data: PersonData, *, now: Any, nir_holder_id: uuid.UUID | None = None
    ) -> tuple[uuid.UUID, DataKey]:
        """A data key and a person, normalised as ``members.services.build_person`` does."""
        data_key = vault.build_data_key()
        person_id = uuid.uuid4()
        values = person_values(data)
        birth_date, nir = values["birth_date"], values["nir"]
        self.keys.add((data_key.pk, data_key.wrapped_key, data_key.master_key_id, now))
        self.persons.add(
            (
                person_id,
                data_key.pk,
                *(values[name] for name in self.PERSON_VALUES),
                None
                if birth_date is None
                else self._birth_date.seal(birth_date, data_key=data_key, pk=person_id),
                None if nir is None else self._nir.seal(nir, data_key=data_key, pk=person_id),
                None if nir is None else self._nir_index(nir),
                nir_holder_id,
                now,
                now,
            )
        )
        return person_id, data_key
