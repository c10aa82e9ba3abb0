"""A bulk writer: rows given as ``{attname: value}``, written with the models' own columns."""

from __future__ import annotations

import datetime

import orjson
from django.db import connection, models


class Writer:
    """Rows given as {attname: value} dicts, written in bulk with the models' columns.

    Missing values take the field's default (evaluated once per table). Values are adapted for
    the backend as Django stores them (a test compares a row written here with the ORM's reading).
    Auto-increment keys are left to the database unless the model is in ``explicit_keys``.
    """

    def __init__(self) -> None:
        self.connection = connection
        self.sqlite = connection.vendor == "sqlite"
        self.pending: dict[type, list[tuple]] = {}
        self.layouts: dict[type, tuple] = {}
        self.counts: dict[str, int] = {}
        self.explicit_keys: set[type] = set()

    def layout(self, model):
        found = self.layouts.get(model)
        if found is None:
            fields = [
                f
                for f in model._meta.local_concrete_fields
                if not isinstance(f, models.AutoField) or model in self.explicit_keys
            ]
            defaults = {
                f.attname: (f.get_default() if f.has_default() or f.null else "") for f in fields
            }
            found = self.layouts[model] = (fields, defaults, [self.adapter(f) for f in fields])
        return found

    def adapter(self, field):
        internal = field.get_internal_type()
        target = field.target_field if field.is_relation else field
        if isinstance(target, models.UUIDField):
            return (lambda v: None if v is None else v.hex) if self.sqlite else None
        if internal == "JSONField":
            return lambda v: orjson.dumps(v).decode()
        if not self.sqlite:
            return None
        if internal == "DateTimeField":
            return lambda v: (
                None
                if v is None
                else v.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
            )
        if internal == "DateField":
            return lambda v: None if v is None else v.isoformat()
        if internal == "BooleanField":
            return lambda v: None if v is None else int(v)
        if internal == "DecimalField":
            return lambda v: None if v is None else str(v)
        return None

    def add(self, model, **values) -> None:
        fields, defaults, adapters = self.layout(model)
        row = []
        for field, adapt in zip(fields, adapters, strict=True):
            value = values.get(field.attname, defaults[field.attname])
            row.append(adapt(value) if adapt and value is not None else value)
        self.pending.setdefault(model, []).append(tuple(row))

    def flush(self) -> None:
        """Write what is pending, inside the caller's transaction."""
        cursor = self.connection.connection.cursor()
        for model, rows in self.pending.items():
            fields = self.layouts[model][0]
            table = model._meta.db_table
            columns = ", ".join(f'"{f.column}"' for f in fields)
            if self.sqlite:
                marks = ", ".join("?" * len(fields))
                insert = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'  # noqa: S608
                cursor.executemany(insert, rows)
            else:
                with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            self.counts[table] = self.counts.get(table, 0) + len(rows)
        self.pending.clear()

    def next_id(self, model) -> int:
        """The next free auto-increment key of ``model`` (for keys the builder gives itself)."""
        return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1

    def reset_sequences(self) -> None:
        """PostgreSQL: sequences go on after the keys given by the builder."""
        if self.sqlite:
            return
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            for sql in self.connection.ops.sequence_reset_sql(no_style(), list(self.explicit_keys)):
                cursor.execute(sql)
