"""Reading the person's rows: one query per declared model, each value converted to JSON once.

For each query a *reader* is prepared once per process (and time zone): which columns go into
the JSON as they come from the driver, and which need a conversion (a time into the mutuelle's
zone, a choice into its label, a relation into a name, an encrypted value decrypted). Reading a
row is then a few calls per category of the row, not a dispatch per value.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import models
from django.db.models.functions import Length
from django.utils import timezone

from mutualis.members.models import Beneficiary
from mutualis.privacy import catalogue
from mutualis.rights.export.labels import INDEX_WITHHELD, PASSWORD_WITHHELD, ROLES, SELF
from mutualis.rights.export.plan import (
    BINARY,
    CHOICE,
    ENCRYPTED,
    INDEX,
    MANY,
    RELATION,
    SECRET,
    FieldPlan,
    ModelPlan,
    plans,
)
from mutualis.rights.export.queries import Compiled, fetch, prepare
from mutualis.rights.export.values import (
    json_converter,
    jsonable,
    orm_converter,
    target_field,
    uuid_text,
)
from mutualis.vault import services as vault
from mutualis.vault.erased import ERASED, ERASED_TEXT
from mutualis.vault.exceptions import DecryptionError, KeyShreddedError
from mutualis.vault.models import DataKey


# --- Whose rows ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    pk: str
    name: str
    label: str  # "vous", or the beneficiary's name and role
    beneficiary: bool


def holders_query(person):
    return prepare(
        Beneficiary,
        "holders",
        [person.pk],
        lambda keys: (
            Beneficiary._base_manager.filter(member__person=keys[0])
            .order_by("added_at", "pk")
            .values_list("person_id", "role", "person__first_names", "person__last_name")
        ),
    )


class ExportState:
    """One export's reading state: whose rows, their keys, the data keys met, the time zone."""

    def __init__(self, person, *, portable: bool) -> None:
        self.person = person
        self.portable = portable
        self.own_ids = [person.pk]
        self.holders: dict[str, Holder] = {}
        self.holder_of: dict = {}  # every form a holder's key takes in a column -> Holder
        self.order: dict[str, int] = {}
        self.all_ids: list = []
        self.data_keys: dict = {}
        self.zone = timezone.get_current_timezone()

    def set_holders(self, query: Compiled, rows: list) -> None:
        own = str(self.person.pk)
        holders = {own: Holder(own, self.person.full_name, SELF, False)}
        for person_id, role, first, last in query.orm_rows(rows):
            name = f"{first} {last}"
            text = f"{name}, bénéficiaire de votre contrat ({ROLES.get(role, role)})"
            holders[str(person_id)] = Holder(str(person_id), name, text, True)
        self.holders = holders
        self.order = {pk: i for i, pk in enumerate(holders)}
        self.all_ids = [uuid.UUID(pk) for pk in holders]
        # A subject path ends on a UUID column (UUID or hex digits, by driver) or on a
        # subject_id (text).
        self.holder_of = {
            form: holder
            for key, holder in zip(self.all_ids, holders.values(), strict=True)
            for form in (key, key.hex, str(key))
        }


# --- Reading one model ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """The fields of one category in a row of a model, and how each gets its value."""

    category: catalogue.Category
    fields: tuple[FieldPlan, ...]
    plain_names: tuple[str, ...]
    plain: Callable[[tuple], tuple]  # the driver's values of the plain fields, in one call
    computed: tuple[tuple[str, Callable], ...]  # (name, function of the row)
    fixed: tuple[tuple[str, str], ...]  # (name, what is said instead of the value)
    many: tuple[str, ...]  # many-to-many fields (read by their own query)
    encrypted: tuple[tuple[FieldPlan, int, int], ...]  # (field, column, key id column)


@dataclass(frozen=True)
class Reader:
    pk: Callable  # the row's key as text
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Layout:
    columns: list
    annotations: dict
    places: dict  # field name -> its first column
    keys: dict  # key field -> the column of its data key id


@dataclass(frozen=True)
class Spec:
    """What an export runs for one model and a number of holders, prepared once per thread:
    the query of its rows, one per many-to-many field, and how to read them."""

    plan: ModelPlan
    portable: bool
    fields: tuple[FieldPlan, ...]
    layout: Layout
    queries: tuple[Compiled, ...]
    many: tuple[FieldPlan, ...]
    readers: dict = field(default_factory=dict, compare=False, repr=False)  # by time zone


def layout(plan: ModelPlan, fields: tuple[FieldPlan, ...], portable: bool) -> Layout:
    """The columns one query reads for ``fields``, and where each field finds its own."""
    columns, annotations, places = ["pk", plan.path], {}, {}
    keys: dict[str, int] = {}
    for f in fields:
        places[f.name] = len(columns)
        if f.kind == ENCRYPTED:
            keys.setdefault(f.model_field.key_field, 0)
            columns.append(f.name)
        elif f.kind == RELATION:
            columns += [f"{f.name}__{c}" for c in ("pk", *f.columns)]
        elif f.kind == BINARY and not portable:
            alias = f"export_size_{f.name}"
            annotations[alias] = Length(f.name)
            columns.append(alias)
        elif f.kind not in (MANY, SECRET, INDEX):
            columns.append(f.name)
    for key in keys:
        keys[key] = len(columns)
        columns += [key, f"{key}__wrapped_key", f"{key}__master_key_id"]
    if plan.name_field:
        columns.append(plan.name_field)
    return Layout(columns, annotations, places, keys)


_specs = threading.local()


def spec(plan: ModelPlan, state: ExportState) -> tuple[Spec, list]:
    """The prepared spec of ``plan`` for this export, and the keys its queries take."""
    ids = state.all_ids if plan.beneficiaries else state.own_ids
    cache = _specs.__dict__.setdefault("specs", {})
    key = (id(plan), state.portable, len(ids))
    found = cache.get(key)
    if found is None or found.plan is not plan:
        found = cache[key] = _spec(plan, state.portable, ids)
    return found, ids


def _spec(plan: ModelPlan, portable: bool, ids: list) -> Spec:
    fields = plan.portable_fields if portable else plan.fields
    where = layout(plan, fields, portable)
    manager = plan.model._base_manager

    def build(keys_: list) -> models.QuerySet:
        lookup = {f"{plan.path}__in": keys_} if len(keys_) > 1 else {plan.path: keys_[0]}
        return manager.filter(**lookup).annotate(**where.annotations).values_list(*where.columns)

    many = tuple(f for f in fields if f.kind == MANY)
    compiled = [prepare(plan, ("rows", portable), ids, build)[0]]
    compiled += [_many_query(plan, f, ids)[0] for f in many]
    return Spec(plan, portable, fields, where, tuple(compiled), many)


def _getter(indexes: list[int]) -> Callable[[tuple], tuple]:
    if len(indexes) > 1:
        return itemgetter(*indexes)
    if indexes:
        (at,) = indexes
        return lambda row: (row[at],)
    return lambda row: ()


def _computed(f: FieldPlan, at: int, query: Compiled, zone, portable: bool, name_at: int):
    """The function giving ``f``'s JSON value from a row, or None when the driver's value is
    it."""
    if f.kind == RELATION:
        namer, count = f.namer, len(f.columns)
        columns = [(i, orm_converter(query, i)) for i in range(at + 1, at + 1 + count)]
        if any(c is not None for _i, c in columns):

            def converted(row):
                if row[at] is None:
                    return None
                return namer(*[row[i] if c is None else c(row[i]) for i, c in columns])

            return converted
        names = _getter([i for i, _c in columns])
        return lambda row: None if row[at] is None else namer(*names(row))
    if f.kind == BINARY:
        if portable:
            return lambda row: (
                None
                if row[at] is None
                else {
                    "name": row[name_at] if name_at else None,
                    "size": len(row[at]),
                    "content": bytes(row[at]),
                }
            )
        return lambda row: (
            None
            if row[at] is None
            else {"name": row[name_at] if name_at else None, "size": row[at]}
        )
    if f.kind == CHOICE and not portable:  # the archive keeps the code (its label beside it)
        labels = f.choices

        def label(row):
            value = row[at]
            return value if value is None or value == "" else labels.get(value, value)

        return label
    convert = json_converter(query, at, zone)
    return None if convert is None else lambda row: convert(row[at])


def reader(found: Spec, zone) -> Reader:
    """How to read the rows of ``found`` in ``zone`` (prepared once)."""
    read = found.readers.get(zone)
    if read is not None:
        return read
    query, where, portable = found.queries[0], found.layout, found.portable
    name_at = len(where.columns) - 1 if found.plan.name_field else 0
    by_category: dict[str, list[FieldPlan]] = {}
    for f in found.fields:
        by_category.setdefault(f.category.code, []).append(f)
    groups = []
    for members in by_category.values():
        plain, names, computed, fixed, many, encrypted = [], [], [], [], [], []
        for f in members:
            at = where.places[f.name]
            if f.kind == SECRET:
                fixed.append((f.name, PASSWORD_WITHHELD))
            elif f.kind == INDEX:
                fixed.append((f.name, INDEX_WITHHELD))
            elif f.kind == MANY:
                many.append(f.name)
            elif f.kind == ENCRYPTED:
                encrypted.append((f, at, where.keys[f.model_field.key_field]))
            else:
                function = _computed(f, at, query, zone, portable, name_at)
                if function is None:
                    plain.append(at)
                    names.append(f.name)
                else:
                    computed.append((f.name, function))
        groups.append(
            Group(
                members[0].category,
                tuple(members),
                tuple(names),
                _getter(plain),
                tuple(computed),
                tuple(fixed),
                tuple(many),
                tuple(encrypted),
            )
        )
    pk_field = target_field(query.output_fields[0])
    pk = uuid_text if isinstance(pk_field, models.UUIDField) else str
    read = found.readers[zone] = Reader(pk, tuple(groups))
    return read


def rows(found: Spec, state: ExportState, results: list) -> list[tuple]:
    """The rows of ``found``'s model from the results of its queries, in the holders' order:
    ``(key as text, holder, [(group, {field name: JSON value}, [erased field names])])``."""
    if not results[0]:
        return []
    read = reader(found, state.zone)
    many = {
        f.name: _many(f, query, result)
        for f, query, result in zip(found.many, found.queries[1:], results[1:], strict=True)
    }
    holder_of, data_keys, pk_text, found_rows = state.holder_of, state.data_keys, read.pk, []
    for record in results[0]:
        pk = pk_text(record[0])
        groups = []
        for group in read.groups:
            values = dict(zip(group.plain_names, group.plain(record), strict=False))
            for name, function in group.computed:
                values[name] = function(record)
            for name, text in group.fixed:
                values[name] = text
            for name in group.many:
                values[name] = many[name].get(record[0], [])
            erased = []
            for f, at, key_at in group.encrypted:
                value = record[at]
                if value is not None:
                    value = _decrypt(f, value, pk, record, key_at, data_keys)
                    if value is ERASED:
                        value = ERASED_TEXT
                        erased.append(f.name)
                    else:
                        value = jsonable(value)
                values[f.name] = value
            groups.append((group, values, erased))
        found_rows.append((pk, holder_of[record[1]], groups))
    if len(state.order) > 1:
        order = state.order
        found_rows.sort(key=lambda row: order[row[1].pk])  # stable: the model's order per holder
    return found_rows


def _many_query(plan: ModelPlan, f: FieldPlan, ids: list):
    def build(keys_: list) -> models.QuerySet:
        lookup = {f"{plan.path}__in": keys_} if len(keys_) > 1 else {plan.path: keys_[0]}
        columns = [f"{f.name}__{c}" for c in ("pk", *f.columns)]
        qs = plan.model._base_manager.filter(**lookup)
        return qs.order_by("pk", f"{f.name}__pk").values_list("pk", *columns)

    return prepare(plan, ("many", f.name), ids, build)


def _many(f: FieldPlan, query: Compiled, rows_: list) -> dict:
    names = range(2, 2 + len(f.columns))
    found: dict = {}
    for row in rows_:
        if row[1] is not None:  # a row without any link (outer join)
            found.setdefault(row[0], []).append(f.namer(*query.orm_values(row, names)))
    return found


def _decrypt(f: FieldPlan, sealed, pk: str, record, at: int, data_keys: dict):
    """Decrypt one value with its row's data key (unwrapped once, then from the key cache)."""
    key_id = record[at]
    if key_id is None:
        raise DecryptionError(f"{f.model_field.model._meta.label}.{f.name} has no data key.")
    data_key = data_keys.get(key_id)
    if data_key is None:
        data_key = data_keys[key_id] = DataKey(
            id=key_id if type(key_id) is uuid.UUID else uuid.UUID(str(key_id)),
            wrapped_key=record[at + 1],
            master_key_id=record[at + 2],
        )
    try:
        raw = vault.decrypt_for(data_key, bytes(sealed), f.model_field.aad(pk))
    except KeyShreddedError:
        return ERASED
    return f.model_field.decode(raw)


# --- The walk ------------------------------------------------------------------------------------
def walk(state: ExportState, extra_first: list = (), then=None):
    """Read the rows of every plan that has fields to read, in two batches (one round trip
    each on PostgreSQL): first the beneficiaries and everything keyed by the person alone, then
    what needs the beneficiaries' ids. ``extra_first`` are further prepared queries of the first
    batch; ``then(results)`` gives those of the second from their results. Returns ``(rows per
    plan, results of extra_first, results of the second extra queries)``."""
    walked = [plan for plan in plans() if (plan.portable_fields if state.portable else plan.fields)]
    holders = holders_query(state.person)
    batch, spans = [holders, *extra_first], []
    for plan in walked:
        if not plan.beneficiaries:
            batch, spans = _add(plan, state, batch, spans)
    results = fetch(batch)
    state.set_holders(holders[0], results[0])
    found = {id(found.plan): rows(found, state, results[start:end]) for found, start, end in spans}
    extra_results = results[1 : 1 + len(extra_first)]
    batch, spans = list(then(extra_results) if then else []), []
    extra_second = len(batch)
    for plan in walked:
        if plan.beneficiaries:
            batch, spans = _add(plan, state, batch, spans)
    results = fetch(batch)
    for found_spec, start, end in spans:
        found[id(found_spec.plan)] = rows(found_spec, state, results[start:end])
    return [(plan, found[id(plan)]) for plan in walked], extra_results, results[:extra_second]


def _add(plan: ModelPlan, state: ExportState, batch: list, spans: list) -> tuple[list, list]:
    found, ids = spec(plan, state)
    start = len(batch)
    batch += [(query, query.bind(ids)) for query in found.queries]
    spans.append((found, start, len(batch)))
    return batch, spans
