"""Values as the exports write them, and the conversion of each column from its driver's value
(chosen once per query and column, not per value)."""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable

from django.db import connections, models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from mutualis.rights.export.queries import Compiled


def jsonable(value):
    """A Python value as the exports write it: dates and times in ISO 8601 (times in the
    current time zone, with their offset), decimals and identifiers as text."""
    if value is None or isinstance(value, bool | int | str | float | dict | list):
        return value
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.get_current_timezone()).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def uuid_text(value) -> str:
    """A UUID column as text: the driver gives a UUID (PostgreSQL) or 32 hex digits (SQLite,
    as Django writes them)."""
    if type(value) is str and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value if type(value) is uuid.UUID else uuid.UUID(value))


def target_field(model_field: models.Field) -> models.Field:
    """The field a relation ends on (itself for any other field)."""
    while model_field.is_relation and getattr(model_field, "target_field", None) is not None:
        model_field = model_field.target_field
    return model_field


@functools.lru_cache(maxsize=16)
def datetime_converter(alias: str, zone) -> Callable:
    """A datetime column into ISO 8601 in ``zone``, with its offset.

    Naive values (SQLite stores UTC) are shifted by the zone's offset, looked up once per day
    (UTC): converting each value through its time zone costs three times as much, and an
    export holds dozens of them (its audit events). A day in which the offset changes is
    converted value by value."""
    stored_in = connections[alias].timezone
    in_utc = stored_in.utcoffset(None) == datetime.timedelta(0)
    shifts: dict = {}

    def convert(value):
        if value is None:
            return None
        if type(value) is str:
            value = parse_datetime(value)
        if value.tzinfo is not None:
            return value.astimezone(zone).isoformat()
        if not in_utc:
            return value.replace(tzinfo=stored_in).astimezone(zone).isoformat()
        day = (value.year, value.month, value.day)
        shift = shifts.get(day)
        if shift is None:
            if len(shifts) >= _SHIFTS_KEPT:
                shifts.clear()
            shift = shifts[day] = _shift(day, zone)
        if not shift:
            return value.replace(tzinfo=datetime.UTC).astimezone(zone).isoformat()
        return (value + shift[0]).isoformat() + shift[1]

    return convert


_SHIFTS_KEPT = 20_000  # days (fifty years)
_LAST_OF_DAY = datetime.timedelta(days=1, microseconds=-1)


def _shift(day: tuple[int, int, int], zone) -> tuple | bool:
    """``(offset, its ISO text)`` of ``zone`` during a day (UTC); False when it changes."""
    start = datetime.datetime(*day, tzinfo=datetime.UTC)
    offset = start.astimezone(zone).utcoffset()
    if (start + _LAST_OF_DAY).astimezone(zone).utcoffset() != offset:
        return False
    text = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(offset)).isoformat()[19:]
    return offset, text


def _date(value):
    return value if value is None or type(value) is str else value.isoformat()


def _boolean(value):
    return value if value is None else bool(value)


_PLAIN_TYPES = frozenset(
    {
        "CharField",
        "TextField",
        "EmailField",
        "SlugField",
        "URLField",
        "GenericIPAddressField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
    }
)


def json_converter(query: Compiled, index: int, zone) -> Callable | None:
    """The function turning column ``index`` of ``query`` into its JSON value (None: the
    driver's value is already it)."""
    target = target_field(query.output_fields[index])
    internal = target.get_internal_type()
    if internal == "DateTimeField":
        return datetime_converter(query.alias, zone)
    if internal == "DateField":
        return _date
    if internal == "UUIDField":
        return lambda value: None if value is None else uuid_text(value)
    if internal == "BooleanField":
        return _boolean
    orm = orm_converter(query, index)
    if orm is None and internal in _PLAIN_TYPES:
        return None
    if orm is None:
        return jsonable
    return lambda value: jsonable(orm(value))


def orm_converter(query: Compiled, index: int) -> Callable | None:
    """The ORM's own conversion of column ``index`` (None when it has none)."""
    converters, expression = query.converters.get(index, ((), None))
    if not converters:
        return None
    connection = connections[query.alias]

    def convert(value):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert
