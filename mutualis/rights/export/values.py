"""Values as the exports write them, and the conversion of each column from its driver's value
(chosen once per query and column, not per value; for the columns whose values repeat, done
once per distinct value: :class:`Memo`)."""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable, Sequence
from operator import itemgetter

from django.db import connections, models
from django.db.models import Func
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

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


_UUID_PARTS = itemgetter(slice(0, 8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))


def uuid_texts(values: Sequence) -> list[str]:
    """:func:`uuid_text` of every value of a column (keys: never NULL). Columns of 32 hex
    digits (SQLite) are cut into their five groups and joined without a Python call per value
    (from three values on: checking the column costs more than converting one or two)."""
    if len(values) > 2 and set(map(type, values)) == {str} and set(map(len, values)) == {32}:
        return list(map("-".join, map(_UUID_PARTS, values)))
    return list(map(uuid_text, values))


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
    converted value by value.

    The text SQLite stores (``Stored``), as Django writes it ("YYYY-MM-DD HH:MM:SS" and, when
    there are any, six digits of microseconds), is parsed to be checked as its driver would,
    then not written out again: only its date and hour move into the zone (by the offset of
    its day, looked up once per day, when it is a whole number of hours all day long), the
    minutes, seconds and microseconds are the same text."""
    stored_in = connections[alias].timezone
    in_utc = stored_in.utcoffset(None) == datetime.timedelta(0)
    shifts: dict = {}
    days: dict = {}

    def convert(value):
        if value is None:
            return None
        if type(value) is str:
            try:
                parsed = _FROM_ISO(value)
            except ValueError:
                parsed = parse_datetime(value)  # the driver's parser (and its errors)
            # Laid out as str() of a naive datetime (as Django writes it; six digits of
            # microseconds when there are any): what follows the hour is ISO 8601 already.
            size = len(value)
            if (
                in_utc
                and parsed.tzinfo is None
                and (size == 19 or (size == 26 and value[19] == "." and value[20:] != "000000"))
                and value[10] == " "
                and value[13] == ":"
                and value[16] == ":"
            ):
                day = days.get(value[:10])
                if day is None:
                    if len(days) >= _SHIFTS_KEPT:
                        days.clear()
                    day = days[value[:10]] = _day(parsed, zone)
                if day:
                    hour = parsed.hour + day[0]
                    moved = (hour >= 24) - (hour < 0)  # to the next or the previous day
                    return day[2][moved + 1] + _HOURS[hour - 24 * moved] + value[13:] + day[1]
            value = parsed
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
_HOUR = datetime.timedelta(hours=1)
_DAY = datetime.timedelta(days=1)
_HOURS = tuple(f"T{hour:02d}" for hour in range(24))
_FROM_ISO = datetime.datetime.fromisoformat


def _day(moment: datetime.datetime, zone) -> tuple | bool:
    """For the UTC day of ``moment``: the offset of ``zone`` in hours, its ISO text, and the
    texts of the day before, the day and the day after (where a local time may fall); False
    when the offset changes that day or is not a whole number of hours."""
    shift = _shift((moment.year, moment.month, moment.day), zone)
    if not shift or shift[0] % _HOUR:
        return False
    date = moment.date()
    try:
        days = ((date - _DAY).isoformat(), date.isoformat(), (date + _DAY).isoformat())
    except OverflowError:  # the first or the last day a date can be
        return False
    return shift[0] // _HOUR, shift[1], days


def _shift(day: tuple[int, int, int], zone) -> tuple | bool:
    """``(offset, its ISO text)`` of ``zone`` during a day (UTC); False when it changes."""
    start = datetime.datetime(*day, tzinfo=datetime.UTC)
    offset = start.astimezone(zone).utcoffset()
    if (start + _LAST_OF_DAY).astimezone(zone).utcoffset() != offset:
        return False
    text = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(offset)).isoformat()[19:]
    return offset, text


def _date(value):
    if type(value) is str:  # the text SQLite stores (see ``Stored``), parsed as its driver does
        value = parse_date(value)
    return None if value is None else value.isoformat()


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


class Stored(Func):
    """A date or time column as its database stores it. On SQLite, an expression rather than
    the column (``+"col"``, the same value): the driver only parses the columns it knows the
    declared type of, so the text comes back as stored, and a date is converted once per
    distinct value (:class:`Memo`), a time from its text (:func:`datetime_converter`), rather
    than parsed on every row and then written again. Elsewhere, the column itself. The JSON is
    the same: :func:`_date` and :func:`datetime_converter` parse the text with the function
    SQLite's driver would have used (``mutualis/rights/tests/test_export_columns.py`` fails if
    Django's registration of those parsers changes)."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


class Memo(dict):
    """The JSON value of each driver value of one column, computed once and then looked up:
    ``list(map(memo.__getitem__, column))`` converts a column with no Python call per value it
    has already met (a member's premiums repeat one amount, and every member's schedule the
    same months).

    Only for conversions whose result is immutable and depends on the value alone, of column
    types where driver values that compare equal convert to the same text: dates, booleans,
    decimals (of a fixed number of places, as a DecimalField's column has; SQLite's decimal
    columns hold integers and floats, equal only when their values are). At most ``limit``
    values are kept (then it starts again)."""

    __slots__ = ("convert", "limit")

    def __init__(self, convert: Callable, limit: int = 4096) -> None:
        super().__init__({None: None})
        self.convert = convert
        self.limit = limit

    def __missing__(self, value):
        if len(self) >= self.limit:
            self.clear()
            self[None] = None
        found = self[value] = self.convert(value)
        return found


_MEMOIZED = frozenset({"DateField", "BooleanField", "DecimalField"})


def column_converter(query: Compiled, index: int, zone) -> Callable[[list], list] | None:
    """The function turning column ``index`` of ``query``'s rows (given the columns of all its
    rows) into their JSON values (None: the driver's values are already them)."""
    convert = json_converter(query, index, zone)
    if convert is None:
        return None
    if target_field(query.output_fields[index]).get_internal_type() in _MEMOIZED:
        convert = Memo(convert).__getitem__
    return lambda columns: list(map(convert, columns[index]))


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
