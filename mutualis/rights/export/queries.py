"""Compiled queries: written by the ORM once, then only executed.

The ORM writes each query from the declaration (joins along the subject path), once per thread,
database and number of keys; an export only runs it with its own keys. This keeps an export at a
few milliseconds: compiling a query costs more than running it. Rows come back as the driver
gives them (no ORM converters): :mod:`mutualis.rights.export.reading` converts each column
straight to its JSON value, which costs a fraction of converting it twice.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, models

from mutualis.lib.prepared import bind, placeholder, slot

_compiled = threading.local()
_FORMAT_MARK = re.compile(r"(?<!%)%s")


@dataclass(frozen=True)
class Compiled:
    owner: object
    alias: str
    sql: str  # in the driver's own placeholder style
    sql_for_wrapper: str  # in Django's (%s), for its cursor wrapper
    params: tuple  # constant values, or Slot for a key
    output_fields: tuple  # the model field of each column
    converters: dict  # the ORM's converters by column: {index: ([functions], expression)}
    readers: dict = field(default_factory=dict, compare=False, repr=False)  # see reading.py

    def bind(self, values: list) -> list:
        """The parameters of the query for ``values`` as its keys."""
        return bind(self.params, values)

    def orm_values(self, row, indexes) -> list:
        """The values of ``row`` at ``indexes`` as the ORM would give them."""
        connection = connections[self.alias]
        values = []
        for index in indexes:
            value = row[index]
            converters, expression = self.converters.get(index, ((), None))
            for converter in converters:
                value = converter(value, expression, connection)
            values.append(value)
        return values

    def orm_rows(self, rows: list, indexes=None) -> list[list]:
        """Every row (its values at ``indexes``, all by default) as the ORM would give it (for
        the small queries read once)."""
        if not rows:
            return []
        connection = connections[self.alias]  # looked up once: a lookup costs a small query's
        if indexes is None:
            indexes = range(len(self.output_fields))
        steps = [(i, *self.converters.get(i, ((), None))) for i in indexes]
        found = []
        for row in rows:
            values = []
            for i, converters, expression in steps:
                value = row[i]
                for converter in converters:
                    value = converter(value, expression, connection)
                values.append(value)
            found.append(values)
        return found


def prepare(owner: object, variant, values: list, build: Callable[[list], models.QuerySet]):
    """The compiled query ``build(keys)`` (compiled on first use) and its parameters for
    ``values`` as keys (UUIDs or integers)."""
    cache = _compiled.__dict__.setdefault("queries", {})
    key = (id(owner), variant, len(values))
    query = cache.get(key)
    if query is None or query.owner is not owner:
        query = cache[key] = _compile(owner, values, build)
    return query, query.bind(values)


def fetch(batch: list) -> list[list]:
    """The rows of each prepared query, as the driver returns them. On PostgreSQL the batch
    goes in one round trip (pipeline)."""
    if not batch:
        return []
    connection = connections[batch[0][0].alias]
    results = []
    if connection.queries_logged:  # tests and DEBUG see and count every query
        for query, params in batch:
            with connection.cursor() as cursor:
                cursor.execute(query.sql_for_wrapper, params)
                results.append(cursor.fetchall())
        return results
    # Django's cursor wrapper costs as much as a small query: the driver's own cursor.
    connection.ensure_connection()
    driver = connection.connection
    if connection.vendor == "postgresql" and hasattr(driver, "pipeline"):
        with connection.wrap_database_errors, driver.pipeline():
            cursors = []
            for query, params in batch:
                cursor = driver.cursor()
                cursor.execute(query.sql, params)
                cursors.append(cursor)
            for cursor in cursors:
                results.append(cursor.fetchall())
                cursor.close()
        return results
    with connection.wrap_database_errors:
        cursor = driver.cursor()
        try:
            for query, params in batch:
                cursor.execute(query.sql, params)
                results.append(cursor.fetchall())
        finally:
            cursor.close()
    return results


def _compile(owner: object, values: list, build: Callable[[list], models.QuerySet]) -> Compiled:
    sentinels = [placeholder(value, i) for i, value in enumerate(values)]
    queryset = build(sentinels)
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql_for_wrapper, params = compiler.as_sql()
    sql = sql_for_wrapper
    if compiler.connection.vendor == "sqlite":  # what Django's SQLite cursor does per query
        sql = _FORMAT_MARK.sub("?", sql).replace("%%", "%")
    expressions = [column[0] for column in compiler.select[: compiler.col_count]]
    return Compiled(
        owner,
        queryset.db,
        sql,
        sql_for_wrapper,
        tuple(slot(p, sentinels) for p in params),
        tuple(expression.output_field for expression in expressions),
        compiler.get_converters(expressions),
    )
