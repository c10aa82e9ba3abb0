"""Reading the person's rows: one query per declared model, each value converted to JSON once.

For each query a *reader* is prepared once per process (and time zone): which columns go into
the JSON as they come from the driver, and which need a conversion (a time into the mutuelle's
zone, a choice into its label, a relation into a name, an encrypted value decrypted). The rows
are then read column by column: the result is transposed once, each column converted by one
call over all its values (a choice's labels, a decimal's or a date's text looked up in a table
by ``map``, see :class:`~mutualis.rights.export.values.Memo`), and each category's values put
together in one pass. Only what differs on every row (a relation's name, a decryption) is
computed per value.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from django.db import models
from django.db.models.functions import Length
from django.utils import timezone

from mutualis.members.models import Beneficiary
from mutualis.privacy import catalogue
from mutualis.rights.export.labels import (
    INDEX_WITHHELD,
    PASSWORD_WITHHELD,
    ROLES,
    SELF,
    Remembered,
)
from mutualis.rights.export.plan import (
    BINARY,
    CHOICE,
    ENCRYPTED,
    INDEX,
    MANY,
    RELATION,
    SECRET,
    VALUE,
    FieldPlan,
    ModelPlan,
    plans,
)
from mutualis.rights.export.queries import Compiled, fetch, prepare
from mutualis.rights.export.values import (
    Memo,
    Stored,
    column_converter,
    jsonable,
    orm_converter,
    target_field,
    uuid_texts,
)
from mutualis.vault import services as vault
from mutualis.vault.erased import ERASED, ERASED_TEXT
from mutualis.vault.exceptions import DecryptionError, KeyShreddedError


# --- Whose rows ----------------------------------------------------------------------------------
class Holder(NamedTuple):  # a tuple: built for each holder of each export
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
        self.rank_of: dict = {}  # the same forms -> the holder's place in the export
        self.order: dict[str, int] = {}
        self.all_ids: list = []
        self.data_keys: dict = {}  # data key id -> its decrypter (vault.decrypter)
        self.zone = timezone.get_current_timezone()

    def set_holders(self, query: Compiled, rows: list) -> None:
        own = str(self.person.pk)
        holders = {own: Holder(own, self.person.full_name, SELF, False)}
        ids = [self.person.pk]
        for person_id, role, first, last in query.orm_rows(rows):
            name = f"{first} {last}"
            text = f"{name}, bénéficiaire de votre contrat ({ROLES.get(role, role)})"
            holders[str(person_id)] = Holder(str(person_id), name, text, True)
            ids.append(person_id if type(person_id) is uuid.UUID else uuid.UUID(str(person_id)))
        self.holders = holders
        self.order = {pk: i for i, pk in enumerate(holders)}
        self.all_ids = ids
        if len(ids) == 1:  # every row is the person's: no column says whose (see ``rows``)
            self.holder_of = {ids[0]: holders[own]}
            return
        # A subject path ends on a UUID column (UUID or hex digits, by driver) or on a
        # subject_id (text).
        self.holder_of = {
            form: holder
            for key, holder in zip(self.all_ids, holders.values(), strict=True)
            for form in (key, key.hex, str(key))
        }
        self.rank_of = {form: self.order[holder.pk] for form, holder in self.holder_of.items()}


# --- Reading one model ---------------------------------------------------------------------------
# A column function takes the columns of a model's rows (the result transposed) and gives the
# JSON values of one field, one per row.
Column = Callable[[list], Sequence]


@dataclass(frozen=True)
class Group:
    """The fields of one category in a row of a model, and how each gets its values."""

    category: catalogue.Category
    fields: tuple[FieldPlan, ...]
    names: tuple[str, ...]  # fields read from their own columns
    values: Callable[[list], Sequence]  # the columns of rows -> the values of each of ``names``
    many: tuple[str, ...]  # many-to-many fields (read by their own query)
    encrypted: tuple[tuple[FieldPlan, int, int], ...]  # (field, column, key id column)


@dataclass(frozen=True)
class Reader:
    pk: Callable[[Sequence], list[str]]  # the rows' keys as text
    groups: tuple[Group, ...]


class Rows:
    """The rows of one model in an export, by column, in the holders' order: each row's key as
    text and holder, then per category (group) each row's ``{field name: JSON value}`` and the
    names of its erased fields. (A plain class with slots: built for each model of each export,
    it costs a quarter of a frozen dataclass.)"""

    __slots__ = ("groups", "holder", "holders", "pks")

    def __init__(
        self,
        pks: list[str],
        holders: list[Holder],
        groups: list[tuple[Group, list[dict], list[list[str]]]],
        holder: Holder | None = None,  # the holder of every row, when they are all one's
    ) -> None:
        self.pks = pks
        self.holders = holders
        self.groups = groups
        self.holder = holder

    def __len__(self) -> int:
        return len(self.pks)


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
    # The subject path says whose a row is: needed only where rows may be a beneficiary's.
    columns = ["pk", plan.path] if plan.beneficiaries else ["pk"]
    annotations, places = {}, {}
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
        elif f.kind == VALUE and isinstance(f.model_field, models.DateField):
            alias = f"export_stored_{f.name}"  # DateTimeField is a DateField
            annotations[alias] = Stored(f.name)
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


def _column(
    f: FieldPlan, at: int, query: Compiled, zone, portable: bool, name_at: int
) -> Column | int:
    """The column function giving ``f``'s JSON values from the columns of the rows, or the
    index of its column when the driver's values are them."""
    if f.kind == RELATION:
        namer, count = f.namer, len(f.columns)
        names = range(at + 1, at + 1 + count)
        converters = [orm_converter(query, i) for i in names]
        if isinstance(namer, Remembered):  # no personal data: names kept by the raw values
            return _remembered_relation(at, names, converters, namer)
        if any(c is not None for c in converters):

            def relation(columns):
                return [
                    None
                    if key is None
                    else namer(
                        *[v if c is None else c(v) for v, c in zip(row, converters, strict=True)]
                    )
                    for key, row in zip(
                        columns[at], zip(*[columns[i] for i in names], strict=True), strict=True
                    )
                ]

            return relation
        return lambda columns: [
            None if key is None else namer(*row)
            for key, row in zip(
                columns[at], zip(*[columns[i] for i in names], strict=True), strict=True
            )
        ]
    if f.kind == BINARY:
        no_names = lambda columns: repeat(None)  # noqa: E731
        file_names = itemgetter(name_at) if name_at else no_names
        if portable:
            return lambda columns: [
                None
                if content is None
                else {"name": name, "size": len(content), "content": bytes(content)}
                for content, name in zip(columns[at], file_names(columns), strict=False)
            ]
        return lambda columns: [
            None if size is None else {"name": name, "size": size}
            for size, name in zip(columns[at], file_names(columns), strict=False)
        ]
    if f.kind == CHOICE and not portable:  # the archive keeps the code (its label beside it)
        # A code reads as its label, an unknown code as itself, no value ("" or NULL) as such.
        labels = {**f.choices, None: None, "": ""}
        return lambda columns: list(map(labels.get, columns[at], columns[at]))
    convert = column_converter(query, at, zone)
    return at if convert is None else convert  # at: the driver's values are the JSON values


def _remembered_relation(at: int, names: range, converters: list, namer: Remembered) -> Column:
    """A relation to a model without personal data (an offer, a policy version): named once
    per distinct row, looked up afterwards by the driver's values (no conversion per row)."""

    def name(raw: tuple) -> str:
        return namer(*[v if c is None else c(v) for v, c in zip(raw, converters, strict=True)])

    known = Memo(name, limit=1024)

    def lookup(raw: tuple) -> str:
        try:
            return known[raw]
        except TypeError:  # a value that cannot be a key (bytes as a buffer): named again
            return name(raw)

    return lambda columns: [
        None if key is None else lookup(row)
        for key, row in zip(
            columns[at], zip(*[columns[i] for i in names], strict=True), strict=True
        )
    ]


def _texts(values: Sequence) -> list[str]:
    return list(map(str, values))


def _values(columns: list[Column | int]) -> Callable[[list], Sequence]:
    """One function for the columns of a category's fields (each a column function, or the
    index of a column whose driver values are the JSON values): the latter are taken together
    by one ``itemgetter``, the others converted, then all put back in the fields' order."""
    plain = [i for i, c in enumerate(columns) if type(c) is int]
    if not plain:
        return lambda rows: [column(rows) for column in columns]
    converted = [i for i in range(len(columns)) if type(columns[i]) is not int]
    indexes = [columns[i] for i in plain]
    taken = itemgetter(*indexes) if len(indexes) > 1 else _one(indexes[0])
    functions = [columns[i] for i in converted]
    placed = plain + converted  # the order of what ``values`` finds
    order = [placed.index(i) for i in range(len(columns))]
    back = itemgetter(*order) if len(order) > 1 and order != sorted(order) else None

    def values(rows: list) -> Sequence:
        found = [*taken(rows), *[function(rows) for function in functions]]
        return found if back is None else back(found)

    return values


def _one(at: int) -> Callable[[list], tuple]:
    return lambda rows: (rows[at],)


def _fixed(text: str) -> Column:
    return lambda columns: (text,) * len(columns[0])


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
        names, columns, many, encrypted = [], [], [], []
        for f in members:
            at = where.places[f.name]
            if f.kind == MANY:
                many.append(f.name)
            elif f.kind == ENCRYPTED:
                encrypted.append((f, at, where.keys[f.model_field.key_field]))
            else:
                names.append(f.name)
                if f.kind == SECRET:
                    columns.append(_fixed(PASSWORD_WITHHELD))
                elif f.kind == INDEX:
                    columns.append(_fixed(INDEX_WITHHELD))
                else:
                    columns.append(_column(f, at, query, zone, portable, name_at))
        groups.append(
            Group(
                members[0].category,
                tuple(members),
                tuple(names),
                _values(columns),
                tuple(many),
                tuple(encrypted),
            )
        )
    pk_field = target_field(query.output_fields[0])
    pk = uuid_texts if isinstance(pk_field, models.UUIDField) else _texts
    read = found.readers[zone] = Reader(pk, tuple(groups))
    return read


def rows(found: Spec, state: ExportState, results: list) -> Rows:
    """The rows of ``found``'s model from the results of its queries (see :class:`Rows`)."""
    records = results[0]
    if not records:
        return _NO_ROWS
    read = found.readers.get(state.zone) or reader(found, state.zone)
    several = found.plan.beneficiaries and len(state.order) > 1  # else: all the person's
    if several:  # the holders' order; stable: the model's order per holder
        ranks = list(map(state.rank_of.__getitem__, map(_HOLDER, records)))
        records = list(map(records.__getitem__, sorted(range(len(records)), key=ranks.__getitem__)))
    columns = list(zip(*records, strict=True))
    pks = read.pk(columns[0])
    many = {}
    if found.many:
        many = {
            f.name: _many(f, query, result)
            for f, query, result in zip(found.many, found.queries[1:], results[1:], strict=True)
        }
    groups = []
    for group in read.groups:
        names, values = group.names, list(group.values(columns))
        for name in group.many:
            names += (name,)
            values.append([many[name].get(key, []) for key in columns[0]])
        erased = [[] for _ in pks]
        for f, at, key_at in group.encrypted:
            names += (f.name,)
            values.append(_decrypted(f, columns, at, key_at, pks, erased, state.data_keys))
        groups.append((group, _dicts(names, values), erased))
    if several:
        return Rows(pks, list(map(state.holder_of.__getitem__, columns[1])), groups)
    holder = state.holder_of[state.own_ids[0]]
    return Rows(pks, [holder] * len(pks), groups, holder)


def _dicts(names: tuple, columns: list) -> list[dict]:
    """``{name: value}`` for each row, from the columns of ``names``. A dict display is built
    by one opcode, four times as fast as ``dict(zip(names, row))``: the widths of most
    categories (up to eight fields) are spelled out."""
    width = len(names)
    if width == 1:
        (a,) = names
        return [{a: v} for v in columns[0]]
    rows = zip(*columns, strict=True)
    if width == 2:
        a, b = names
        return [{a: v, b: w} for v, w in rows]
    if width == 3:
        a, b, c = names
        return [{a: v, b: w, c: x} for v, w, x in rows]
    if width == 4:
        a, b, c, d = names
        return [{a: v, b: w, c: x, d: y} for v, w, x, y in rows]
    if width == 5:
        a, b, c, d, e = names
        return [{a: v, b: w, c: x, d: y, e: z} for v, w, x, y, z in rows]
    if width == 6:
        a, b, c, d, e, f = names
        return [{a: v, b: w, c: x, d: y, e: z, f: u} for v, w, x, y, z, u in rows]
    if width == 7:
        a, b, c, d, e, f, g = names
        return [{a: v, b: w, c: x, d: y, e: z, f: u, g: t} for v, w, x, y, z, u, t in rows]
    if width == 8:
        a, b, c, d, e, f, g, h = names
        return [{a: v, b: w, c: x, d: y, e: z, f: u, g: t, h: s} for v, w, x, y, z, u, t, s in rows]
    return list(map(dict, map(zip, repeat(names), rows)))


_NO_ROWS = Rows([], [], [])
_HOLDER = itemgetter(1)


def _decrypted(
    f: FieldPlan, columns: list, at: int, key_at: int, pks: list, erased: list, data_keys: dict
) -> list:
    """The values of encrypted field ``f``, decrypted; the rows where it is erased note it."""
    found = []
    for index, (sealed, pk, *key) in enumerate(
        zip(columns[at], pks, *columns[key_at : key_at + 3], strict=True)
    ):
        value = sealed
        if value is not None:
            value = _decrypt(f, sealed, pk, key, data_keys)
            if value is ERASED:
                value = ERASED_TEXT
                erased[index].append(f.name)
            else:
                value = jsonable(value)
        found.append(value)
    return found


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
    linked = [row for row in rows_ if row[1] is not None]  # not a row without links (outer join)
    for row, values in zip(linked, query.orm_rows(linked, names), strict=True):
        found.setdefault(row[0], []).append(f.namer(*values))
    return found


def _decrypt(f: FieldPlan, sealed, pk: str, key: list, data_keys: dict):
    """Decrypt one value with its row's data key (``[id, wrapped key, master key id]``,
    checked and unwrapped once per export: ``data_keys`` holds its decrypter)."""
    key_id = key[0]
    if key_id is None:
        raise DecryptionError(f"{f.model_field.model._meta.label}.{f.name} has no data key.")
    decrypt = data_keys.get(key_id)
    if decrypt is None:
        try:
            decrypt = vault.decrypter(*key)
        except KeyShreddedError:
            decrypt = _SHREDDED
        data_keys[key_id] = decrypt
    if decrypt is _SHREDDED:
        return ERASED
    return f.model_field.decode(decrypt(sealed, f.model_field.aad(pk)))


_SHREDDED = object()  # in ``data_keys``: the key was shredded


# --- The walk ------------------------------------------------------------------------------------
def walk(state: ExportState, extra_first: list = (), then=None):
    """Read the rows of every plan that has fields to read, in two batches (one round trip
    each on PostgreSQL): first the beneficiaries and everything keyed by the person alone, then
    what needs the beneficiaries' ids. ``extra_first`` are further prepared queries of the first
    batch; ``then(results)`` gives those of the second from their results. Returns ``(rows per
    plan, results of extra_first, results of the second extra queries)``."""
    every = plans()
    holders = holders_query(state.person)
    head = [holders, *extra_first]
    first = _batch(every, state, state.own_ids, beneficiaries=False)
    results = fetch(head + first.bind(state.own_ids))
    state.set_holders(holders[0], results[0])
    found = first.rows(state, results, len(head))
    extra_results = results[1 : len(head)]
    head = list(then(extra_results) if then else [])
    second = _batch(every, state, state.all_ids, beneficiaries=True)
    results = fetch(head + second.bind(state.all_ids))
    found.update(second.rows(state, results, len(head)))
    return [(plan, found[id(plan)]) for plan in first.walked], extra_results, results[: len(head)]


@dataclass(frozen=True)
class _Batch:
    """The model queries of one batch of the walk, prepared once per thread, set of plans,
    kind of export and number of holders. Most queries take the same parameters (the person's
    key, or the holders' keys): each distinct set is bound once per export."""

    every: list  # the plans it was prepared from (held: their id is part of the cache key)
    walked: tuple[ModelPlan, ...]  # the plans with fields to read, in the export's order
    specs: tuple[tuple[Spec, int, int], ...]  # (spec, start, end): its queries in ``queries``
    queries: tuple[Compiled, ...]
    shapes: tuple[Compiled, ...]  # one query per distinct set of parameters
    shape_of: tuple[int, ...]  # for each query, the index of its set in ``shapes``

    def bind(self, ids: list) -> list:
        bound = [query.bind(ids) for query in self.shapes]
        return [(query, bound[i]) for query, i in zip(self.queries, self.shape_of, strict=True)]

    def rows(self, state: ExportState, results: list, skip: int) -> dict:
        return {  # most models have no row for most people: those are not read further
            id(found.plan): rows(found, state, results[skip + start : skip + end])
            if results[skip + start]
            else _NO_ROWS
            for found, start, end in self.specs
        }


_batches = threading.local()


def _batch(every: list, state: ExportState, ids: list, *, beneficiaries: bool) -> _Batch:
    cache = _batches.__dict__.setdefault("batches", {})
    key = (id(every), state.portable, beneficiaries, len(ids))
    found = cache.get(key)
    if found is None or found.every is not every:
        found = cache[key] = _prepare_batch(every, state, beneficiaries=beneficiaries)
    return found


def _prepare_batch(every: list, state: ExportState, *, beneficiaries: bool) -> _Batch:
    walked = tuple(p for p in every if (p.portable_fields if state.portable else p.fields))
    specs, queries, shapes, shape_of, known = [], [], [], [], {}
    for plan in walked:
        if plan.beneficiaries != beneficiaries:
            continue
        found, _ids = spec(plan, state)
        specs.append((found, len(queries), len(queries) + len(found.queries)))
        for query in found.queries:
            try:
                index = known.setdefault(query.params, len(shapes))
            except TypeError:  # a constant that cannot be a key: parameters of its own
                index = len(shapes)
            if index == len(shapes):
                shapes.append(query)
            queries.append(query)
            shape_of.append(index)
    return _Batch(every, walked, tuple(specs), tuple(queries), tuple(shapes), tuple(shape_of))
