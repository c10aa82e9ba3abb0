"""Backups apart from the key store, and restores replaying the erasure journal (architecture §5).

Rules:

- ``manage.py backup`` writes a logical dump of every table of every installed app (M2M tables
  included), in dependency order, *except* the key store ``vault_datakey`` and the sessions
  (volatile, and bearer tokens). Rows are copied with their raw column values: encrypted fields
  stay ciphertext, nothing is decrypted. One consistent snapshot (one transaction; repeatable
  read on PostgreSQL).
- ``manage.py backup_keys`` writes the key store (wrapped data keys, useless without the master
  key) and the erasure journal to another file, to be kept apart.
- Both files use :mod:`mutualis.vault.backup_file` (gzip, AES-256-GCM frames, authenticated
  header holding vendor, applied migrations, tables, row counts and SHA-256 hashes), under the
  backup key (``MUTUALIS_BACKUP_KEY``), never a master key: separate per-file keys are derived
  from it, so one kind of file never reads as the other (docs/backup.md, "Keys").
- A restore first verifies both files completely (tags, hashes, schema, and that the key file
  covers every key the data refers to), touching nothing. Then, in one transaction: it reads the
  *current* erasure journal, empties the tables, loads keys and data, checks foreign keys and the
  content hash of what was loaded, and replays the journal (live ∪ key file ∪ backup): every key
  erased since the backup is destroyed again, its blind indexes cleared, its entry kept. The audit
  chain is rewound to the backup's state and the restore event appended to it.

Values are written as JSON: ``null``, booleans, integers, strings and finite floats as is; other
types as a one-key object (``{"b": base64}`` bytes, ``{"d": "1.50"}`` decimal, ``{"dt": iso}``,
``{"da": iso}``, ``{"ti": iso}``, ``{"td": [days, seconds, µs]}``, ``{"u": uuid}``,
``{"f": "nan"}``, ``{"j": json}``). A file is restored on the database vendor that wrote it.
Restoring is :mod:`mutualis.vault.restore`.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from mutualis import audit
from mutualis.vault.backup_file import BackupError, BackupWriter
from mutualis.vault.keys import BackupKeyRing, backup_key_ring
from mutualis.vault.models import DataKey, ShredRecord
from mutualis.vault.tags import VaultTag

__all__ = ["BackupError", "create_backup", "create_key_backup", "data_tables", "table_digests"]

DATA, KEYS = "data", "keys"
# Not in the data backup: the key store (backed up apart), and the sessions (volatile bearer
# tokens: emptied by a restore, everyone signs in again).
VOLATILE = ("sessions.Session",)
FETCH_ROWS = 2000
INSERT_ROWS = 500

Progress = Callable[[str], None]


def silent(message: str) -> None:
    pass


# --- Tables ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    name: str
    columns: tuple[str, ...]
    pk_column: str
    key_columns: tuple[int, ...]  # positions of the columns pointing at vault.DataKey


def _table(model: type[models.Model]) -> Table:
    fields: list[Any] = list(model._meta.local_concrete_fields)
    pk: Any = model._meta.pk
    return Table(
        model=model,
        name=model._meta.db_table,
        columns=tuple(f.column for f in fields),
        pk_column=pk.column,
        key_columns=tuple(
            i for i, f in enumerate(fields) if f.is_relation and f.related_model is DataKey
        ),
    )


def _concrete_models() -> list[type[models.Model]]:
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        found.setdefault(opts.db_table, model)
    return [found[name] for name in sorted(found)]


def _in_dependency_order(all_models: list[type[models.Model]]) -> list[type[models.Model]]:
    """Referenced tables first (a reference cycle is broken in name order)."""
    present = set(all_models)
    depends = {
        m: {
            f.related_model
            for f in m._meta.local_concrete_fields
            if f.is_relation and f.related_model in present and f.related_model is not m
        }
        for m in all_models
    }
    ordered: list[type[models.Model]] = []
    done: set[type[models.Model]] = set()
    while len(ordered) < len(all_models):
        ready = [m for m in all_models if m not in done and depends[m] <= done]
        if not ready:  # a cycle: foreign keys are deferred, any order loads
            ready = [next(m for m in all_models if m not in done)]
        for m in ready:
            ordered.append(m)
            done.add(m)
    return ordered


def _excluded() -> set[type[models.Model]]:
    excluded: set[type[models.Model]] = {DataKey}
    for label in VOLATILE:
        try:
            excluded.add(apps.get_model(label))
        except LookupError:
            continue
    return excluded


def data_tables() -> list[Table]:
    """The tables of the data backup, in dependency order."""
    excluded = _excluded()
    return [_table(m) for m in _in_dependency_order(_concrete_models()) if m not in excluded]


def key_tables() -> list[Table]:
    """The tables of the key-store backup: the keys and the erasure journal."""
    return [_table(DataKey), _table(ShredRecord)]


def replaced_tables() -> list[Table]:
    """Every table a restore empties: the data, the key store and the volatile ones."""
    excluded = _excluded()
    return [_table(m) for m in _in_dependency_order(_concrete_models()) if m in excluded] + (
        data_tables()
    )


# --- Values ----------------------------------------------------------------------------------
def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"f": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"da": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"ti": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, dict | list):
        return {"j": json.dumps(value, sort_keys=True, ensure_ascii=False)}
    raise BackupError(f"Type de valeur non pris en charge par la sauvegarde : {type(value)}.")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "f": float,
    "b": base64.b64decode,
    "d": decimal.Decimal,
    "dt": datetime.datetime.fromisoformat,
    "da": datetime.date.fromisoformat,
    "ti": datetime.time.fromisoformat,
    "td": lambda parts: datetime.timedelta(*parts),
    "u": uuid.UUID,
    "j": json.loads,
}


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        ((kind, payload),) = value.items()
        return _DECODERS[kind](payload)
    return value


def _row_line(row: Iterable[Any]) -> bytes:
    return json.dumps(
        [encode_value(v) for v in row], ensure_ascii=False, separators=(",", ":")
    ).encode()


def _table_line(table: Table) -> bytes:
    return json.dumps({"table": table.name, "columns": list(table.columns)}).encode()


def key_hex(value: Any) -> str:
    """A data key id as stored (UUID on PostgreSQL, 32 hex characters on SQLite), normalised."""
    return uuid.UUID(str(decode_value(value))).hex


def aware_datetime(value: Any) -> datetime.datetime:
    """A datetime as stored (naive UTC on SQLite), made aware."""
    value = decode_value(value)
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, datetime.UTC)


# --- Hashes ----------------------------------------------------------------------------------
class TableDigest:
    """Row count and SHA-256 of one table: its name and columns, then each row line."""

    def __init__(self, table: Table) -> None:
        self.name = table.name
        self.columns = list(table.columns)
        self.rows = 0
        self._sha = hashlib.sha256(_table_line(table) + b"\n")

    def add(self, line: bytes) -> None:
        self._sha.update(line + b"\n")
        self.rows += 1

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": self.columns,
            "rows": self.rows,
            "sha256": self._sha.hexdigest(),
        }


def content_hash(entries: Iterable[dict[str, Any]]) -> str:
    """SHA-256 over each table's name, row count and hash, in order."""
    text = "".join(f"{e['name']}:{e['rows']}:{e['sha256']}\n" for e in entries)
    return hashlib.sha256(text.encode()).hexdigest()


def _select(table: Table) -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in table.columns)
    # Identifiers come from the models' metadata and are quoted; there is no user input.
    return f"SELECT {columns} FROM {qn(table.name)} ORDER BY {qn(table.pk_column)}"  # noqa: S608


def _live_lines(table: Table) -> Iterator[bytes]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(_select(table))
        while rows := cursor.fetchmany(FETCH_ROWS):
            for row in rows:
                yield _row_line(row)


def table_digests(tables: Iterable[Table] | None = None) -> list[dict[str, Any]]:
    """Row count and hash of each table as it is now in the database (data tables by default)."""
    entries = []
    for table in data_tables() if tables is None else tables:
        digest = TableDigest(table)
        for line in _live_lines(table):
            digest.add(line)
        entries.append(digest.entry())
    return entries


# --- Writing ---------------------------------------------------------------------------------
def configured_ring() -> BackupKeyRing:
    try:
        return backup_key_ring()
    except ImproperlyConfigured as exc:
        raise BackupError(f"Clé de sauvegarde absente ou invalide : {exc}") from None


@contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction, so that every table is read at the same instant."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def applied_migrations() -> list[str]:
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in applied)


def require_tables(tables: Iterable[Table]) -> None:
    """Refuse to go on when a model's table is missing (migrations not applied)."""
    existing = set(connection.introspection.table_names())
    missing = sorted(t.name for t in tables if t.name not in existing)
    if missing:
        raise BackupError(
            f"Tables absentes de la base : {', '.join(missing)}. Appliquez les migrations "
            "(`manage.py migrate`)."
        )


def _dump(
    writer: BackupWriter, tables: list[Table], fields: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    try:
        require_tables(tables)
        entries = []
        for table in tables:
            writer.write(_table_line(table) + b"\n")
            digest = TableDigest(table)
            for line in _live_lines(table):
                writer.write(line + b"\n")
                digest.add(line)
            entries.append(digest.entry())
            progress(f"  {table.name} : {digest.rows} lignes")
        return writer.close(
            {
                **fields,
                "vendor": connection.vendor,
                "migrations": applied_migrations(),
                "tables": entries,
                "content_sha256": content_hash(entries),
            }
        )
    except BaseException:
        writer.abort()
        raise


def _record(tag: VaultTag, path: Path, header: dict[str, Any], details: dict[str, Any]) -> None:
    """The audit event of a backup; without it, the file is removed (audit is never optional)."""
    try:
        with transaction.atomic():
            audit.record(
                tag,
                target=f"backup:{header['file_id']}",
                details={**details, "key_id": header["key_id"]},
            )
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def create_backup(path: Path, *, progress: Progress = silent) -> dict[str, Any]:
    """Write the encrypted data backup (without the key store); returns its header.

    Recorded as ``vault:backup:create`` once the file is written (architecture.md §5).
    """
    key = configured_ring().current
    tables = data_tables()
    with _snapshot():
        created_at = timezone.now()
        writer = BackupWriter(path, kind=DATA, key=key)
        header = _dump(writer, tables, {"created_at": created_at.isoformat()}, progress)
    _record(
        VaultTag.BACKUP_CREATE,
        path,
        header,
        {
            "tables": len(header["tables"]),
            "rows": sum(t["rows"] for t in header["tables"]),
            "content_sha256": header["content_sha256"],
        },
    )
    return header


def create_key_backup(path: Path, *, progress: Progress = silent) -> dict[str, Any]:
    """Write the encrypted key-store backup (wrapped keys and erasure journal); returns its header.

    Recorded as ``vault:keystore:backup``.
    """
    key = configured_ring().current
    with _snapshot():
        created_at = timezone.now()
        keys = DataKey.objects.all()
        fields = {
            "created_at": created_at.isoformat(),
            "keys": keys.count(),
            "shredded": keys.filter(wrapped_key__isnull=True).count(),
            "master_key_ids": sorted(
                set(keys.filter(wrapped_key__isnull=False).values_list("master_key_id", flat=True))
            ),
        }
        header = _dump(BackupWriter(path, kind=KEYS, key=key), key_tables(), fields, progress)
    _record(
        VaultTag.KEYSTORE_BACKUP,
        path,
        header,
        {
            "keys": header["keys"],
            "shredded": header["shredded"],
            "journal": header["tables"][1]["rows"],
        },
    )
    return header
