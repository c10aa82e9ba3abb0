"""Querysets compiled once, then run with new values.

Writing a query's SQL (the ORM's compiler: joins, lookups, ordering) costs more CPU than a small
indexed query costs the database. On a path that runs the same few queries on every request
(the partners' rights check) that compilation is most of the request's CPU. A
:class:`PreparedQuery` has the ORM write its queryset once per database and number of values,
with placeholder values, then runs that SQL with each call's values through Django's cursor
(so that tests and ``DEBUG`` see every query) and builds model instances as the ORM does
(``from_db``, ``select_related`` included, the ORM's converters applied).

``build`` runs once: whatever varies between calls (a date, the clock, a setting) must be one
of its values, never read inside it. Only what the ORM passes to the database unchanged can be
a value: exact lookups on UUIDs, integers and text (``filter(pk=value)``,
``filter(prefix=value)``, ``filter(pk__in=values)``). A value the ORM transforms (``__iexact``,
``__contains``) is refused when the query is compiled, as is a queryset that is not one of model
instances.

:class:`PreparedInsert` does the same for the INSERT of one new row.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.signals import post_save, pre_save

# Placeholder values, told apart by their position: a UUID with a fixed high part, an integer
# within the range of an integer column (positive or not: the ORM refuses a lookup out of a
# column's range), a text no form accepts. They only ever reach the compiler.
_UUID_BASE = 0x6D757475616C69735F70726570617265  # "mutualis_prepare" in ASCII
_INT_BASE = 1_987_654_321
_TEXT_MARK = "\x1fprepared:"


def placeholder(value: Any, position: int) -> Any:
    """The placeholder a query is compiled with for ``value``, the ``position``-th value."""
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=_UUID_BASE + position)
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT_BASE + position
    if isinstance(value, str):
        return f"{_TEXT_MARK}{position}"
    raise TypeError(f"a prepared query takes UUIDs, integers and texts, not {type(value).__name__}")


@dataclass(frozen=True)
class Slot:
    """Where a compiled query's parameter takes the ``position``-th value of a call."""

    position: int
    form: str  # how the value reaches the driver: "same", "hex" (SQLite's UUIDs) or "str"


def slot(param: Any, placeholders: list) -> Any:
    """A compiled query's parameter: the :class:`Slot` of a placeholder, or a constant."""
    for position, placeholder in enumerate(placeholders):
        if type(param) is type(placeholder) and param == placeholder:
            return Slot(position, "same")
        if isinstance(placeholder, uuid.UUID) and param in (placeholder.hex, str(placeholder)):
            return Slot(position, "hex" if param == placeholder.hex else "str")
    if isinstance(param, str) and _TEXT_MARK in param:
        raise ValueError("a prepared query's text values must reach the SQL unchanged")
    return param


def bind(params: Sequence, values: Sequence) -> list:
    """The parameters of a compiled query for ``values``."""
    return [_bound(p, values) if type(p) is Slot else p for p in params]


def _bound(where: Slot, values: Sequence) -> Any:
    value = values[where.position]
    if where.form == "hex":
        return value.hex
    return str(value) if where.form == "str" else value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # constants, or Slot for a value
    compiler: Any  # the ORM's compiler, kept for its model layout
    converters: dict  # the ORM's converters of each column that has any
    init_list: tuple[str, ...]
    start: int
    end: int
    populators: tuple


class PreparedQuery:
    """``build(*values)`` -> a queryset of model instances; called with values, the instances.

    Example::

        credential_by_prefix = PreparedQuery(
            lambda prefix: Credential.objects.select_related("organisation").filter(prefix=prefix)
        )
        found = credential_by_prefix("ab12cd34")
    """

    def __init__(self, build: Callable[..., models.QuerySet]) -> None:
        self.build = build
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def queryset(self, *values: Any) -> models.QuerySet:
        """The queryset the SQL is compiled from, for ``values`` (its plan, in tests)."""
        return self.build(*values)

    def __call__(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list:
        key = (using, tuple(type(v) for v in values))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(values, using)
                self._compiled[key] = compiled
        params = bind(compiled.params, values)
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        start, end, init_list = compiled.start, compiled.end, compiled.init_list
        model = compiled.compiler.klass_info["model"]
        for row in rows:
            instance = model.from_db(using, init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def _compile(self, values: Sequence, using: str) -> _Compiled:
        placeholders = [placeholder(value, i) for i, value in enumerate(values)]
        queryset = self.build(*placeholders).using(using)
        prefetching = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        if queryset._iterable_class is not ModelIterable or prefetching:
            raise ValueError("a prepared query gives model instances, without prefetching")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = tuple(slot(param, placeholders) for param in params)
        missing = set(range(len(values))) - {s.position for s in slots if type(s) is Slot}
        if missing:
            raise ValueError("every value of a prepared query must reach its SQL unchanged")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=slots,
            compiler=compiler,
            converters=compiler.get_converters([c[0] for c in select[: compiler.col_count]]),
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            start=start,
            end=end,
            # Django 5.2's signature (the type stubs follow a later one).
            populators=tuple(get_related_populators(klass_info, select, using)),  # type: ignore[call-arg]
        )


def set_prefetched(instances: list, name: str, related: list, key: Callable) -> None:
    """Give each of ``instances`` its ``name`` objects from ``related`` (``key(item)`` is the
    instance's pk), as ``prefetch_related(name)`` would have: ``instance.name.all()`` then
    reads no more."""
    by_owner: dict = {}
    for item in related:
        by_owner.setdefault(key(item), []).append(item)
    for instance in instances:
        queryset = getattr(instance, name).all()
        queryset._result_cache = by_owner.get(instance.pk, [])
        queryset._prefetch_done = True
        instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: tuple  # the fields written, in the statement's order
    compiler: Any  # the ORM's insert compiler: each value prepared as it prepares it
    returning: tuple  # the fields the database gives back (an automatic primary key)
    returning_params: tuple


M = TypeVar("M", bound=models.Model)


class PreparedInsert(Generic[M]):
    """``PreparedInsert(Model)(instance)``: ``instance.save()`` of a new row, its INSERT written
    once per database.

    Each value is prepared as the ORM prepares it (``pre_save``, then ``get_db_prep_save``: a
    default, an encrypted field, a JSON field), the automatic primary key read back. Unlike
    ``save()``, no ``pre_save``/``post_save`` signal is sent: a model with receivers is refused.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._compiled: dict[str, _CompiledInsert] = {}

    def __call__(self, instance: M, using: str = DEFAULT_DB_ALIAS) -> M:
        if type(instance) is not self.model or not instance._state.adding:
            raise ValueError(f"a prepared insert writes new {self.model.__name__} rows only")
        if pre_save.has_listeners(self.model) or post_save.has_listeners(self.model):
            raise ValueError(f"{self.model.__name__} has save signal receivers: use save()")
        compiled = self._compiled.get(using) or self._compile(using)
        compiler = compiled.compiler
        params = [compiler.prepare_value(f, f.pre_save(instance, True)) for f in compiled.fields]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [*params, *compiled.returning_params])
            if compiled.returning:
                if connection.features.can_return_columns_from_insert:
                    (value,) = connection.ops.fetch_returned_insert_columns(  # type: ignore[attr-defined]
                        cursor, compiled.returning_params
                    )
                else:
                    value = connection.ops.last_insert_id(
                        cursor, self.model._meta.db_table, compiled.returning[0].column
                    )
                setattr(instance, compiled.returning[0].attname, value)
        instance._state.adding = False
        instance._state.db = using
        return instance

    def _compile(self, using: str) -> _CompiledInsert:
        meta = self.model._meta
        fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
        returning = tuple(f for f in meta.db_returning_fields if f is meta.auto_field)
        query = models.sql.InsertQuery(self.model)
        query.insert_values(fields, [self.model()])  # a row of defaults: only its shape is kept
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = list(returning)
        ((sql, _params),) = compiler.as_sql()
        compiled = _CompiledInsert(
            sql=sql,
            fields=fields,
            compiler=compiler,
            returning=returning,
            returning_params=tuple(getattr(compiler, "returning_params", ())),
        )
        self._compiled[using] = compiled
        return compiled
