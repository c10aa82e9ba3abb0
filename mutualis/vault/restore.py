"""Restore of a data backup and its key-store backup, then replay of the erasure journal.

See :mod:`mutualis.vault.backup` for the files. Rules (architecture.md §5):

- :func:`verify` verifies both files completely before anything is written: backup key, tags of
  every frame, row counts and hashes, same database vendor, same applied migrations, same tables
  and columns, and a key file that covers every data key the data refers to (a key absent from it
  is accepted only if the erasure journal says it was destroyed: it is restored as destroyed).
- :func:`restore` works in one transaction (all tables locked on PostgreSQL): it reads the
  *current* erasure journal before emptying anything, empties every table (the key store and the
  sessions included), loads the keys then the data, checks foreign keys and that the content
  loaded hashes as in the header, then replays the merged journal (current ∪ key file ∪ backup):
  every key erased since is destroyed again, the blind indexes of erased people are cleared and
  every entry is kept in the journal. Any failure rolls everything back.
- The audit chain comes back as it was at the backup; the restore event (with the previous head)
  is appended to it, so ``audit_verify`` passes.
- Crypto-shredding makes a person's ciphertexts unreadable, not their clear fields: the restore
  then sends :data:`mutualis.vault.signals.erasure_replayed` with the journal's keys, and the
  domain removes the people sealed with them as their erasure did (``mutualis.rights.forget``).
- Not done here: the retention rules that fell due since the backup (``enforce_retention`` is
  the next step).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction

from mutualis import audit
from mutualis.audit.models import CHAIN_HEAD_PK, ChainHead
from mutualis.audit.sequencer import sequence_all
from mutualis.lib.french import plural
from mutualis.vault import services, signals
from mutualis.vault.backup import (
    DATA,
    INSERT_ROWS,
    KEYS,
    Progress,
    Table,
    TableDigest,
    applied_migrations,
    aware_datetime,
    configured_ring,
    content_hash,
    data_tables,
    decode_value,
    key_hex,
    key_tables,
    replaced_tables,
    require_tables,
    silent,
    table_digests,
)
from mutualis.vault.backup_file import BackupError, BackupReader
from mutualis.vault.keys import master_key_ring
from mutualis.vault.models import DataKey, ShredRecord
from mutualis.vault.tags import VaultTag

__all__ = ["BackupError", "RestorePlan", "restore", "verify"]


# --- Reading and verifying -------------------------------------------------------------------
def _file_rows(reader: BackupReader, tables: list[Table]) -> Iterator[tuple[Table, list[Any]]]:
    """Each row of the file with its table; at the end, counts and hashes are checked."""
    by_name = {t.name: t for t in tables}
    entries: list[dict[str, Any]] = []
    table: Table | None = None
    digest: TableDigest | None = None
    try:
        for line in reader.lines():
            if line.startswith(b"{"):
                if digest is not None:
                    entries.append(digest.entry())
                head = json.loads(line)
                table = by_name.get(head.get("table"))
                if table is None or head.get("columns") != list(table.columns):
                    raise BackupError(
                        f"{reader.path} : table {head.get('table')!r} inattendue ou de colonnes "
                        "différentes."
                    )
                digest = TableDigest(table)
                continue
            row = json.loads(line)
            if table is None or digest is None or not isinstance(row, list):
                raise BackupError(f"{reader.path} : ligne hors de toute table.")
            if len(row) != len(table.columns):
                raise BackupError(f"{reader.path} : ligne de {table.name} de mauvaise longueur.")
            digest.add(line)
            yield table, row
    except ValueError as exc:  # JSON
        raise BackupError(f"{reader.path} : contenu illisible ({exc}).") from None
    if digest is not None:
        entries.append(digest.entry())
    if entries != reader.header["tables"] or content_hash(entries) != reader.header.get(
        "content_sha256"
    ):
        raise BackupError(
            f"{reader.path} : le contenu ne correspond pas aux nombres de lignes et empreintes de "
            "l'en-tête."
        )


def _check_compatible(reader: BackupReader, tables: list[Table]) -> None:
    header = reader.header
    if header.get("vendor") != connection.vendor:
        raise BackupError(
            f"{reader.path} vient d'une base {header.get('vendor')}, la base actuelle est "
            f"{connection.vendor} : la restauration se fait sur le même moteur."
        )
    current = applied_migrations()
    saved = header.get("migrations")
    if saved != current:
        saved_set, current_set = set(saved or []), set(current)
        raise BackupError(
            f"{reader.path} : les migrations de la sauvegarde diffèrent de celles de la base "
            f"({len(saved_set - current_set)} absentes ici, {len(current_set - saved_set)} en "
            "plus ici). Amenez la base au même état de migration, restaurez, puis lancez "
            "`manage.py migrate`."
        )
    expected = sorted((t.name, list(t.columns)) for t in tables)
    try:
        found = sorted((e["name"], e["columns"]) for e in header["tables"])
    except (KeyError, TypeError):
        raise BackupError(f"{reader.path} : en-tête incomplet.") from None
    if found != expected:
        raise BackupError(
            f"{reader.path} : les tables ou colonnes de la sauvegarde diffèrent de celles de la "
            "base."
        )


Journal = dict[str, datetime.datetime]  # data key id (hex) -> erased at


def _note(journal: Journal, key: str, when: datetime.datetime) -> None:
    """Add one erasure: each key once, with its earliest date."""
    if key not in journal or when < journal[key]:
        journal[key] = when


def _merge(*journals: Journal) -> Journal:
    merged: Journal = {}
    for journal in journals:
        for key, when in journal.items():
            _note(merged, key, when)
    return merged


def _live_journal() -> Journal:
    """The erasure journal as it is now in the database."""
    journal: Journal = {}
    for key, when in ShredRecord.objects.values_list("data_key_id", "shredded_at").iterator():
        _note(journal, key.hex, when)
    return journal


@dataclass
class RestorePlan:
    """Two verified files, and what they hold about keys and erasures."""

    data: BackupReader
    keys: BackupReader
    key_ids: set[str] = field(default_factory=set)
    referenced: set[str] = field(default_factory=set)
    journal: Journal = field(default_factory=dict)
    unknown_masters: dict[str, int] = field(default_factory=dict)

    @property
    def missing_keys(self) -> set[str]:
        """Keys the data refers to that the key file lacks (legitimate only if erased)."""
        return self.referenced - self.key_ids


def _journal_entry(table: Table, row: list[Any]) -> tuple[str, datetime.datetime]:
    values = dict(zip(table.columns, row, strict=True))
    key_column = str(ShredRecord._meta.get_field("data_key_id").column)
    return key_hex(values[key_column]), aware_datetime(values["shredded_at"])


def verify(data_path: Path, keys_path: Path, *, progress: Progress = silent) -> RestorePlan:
    """Open and verify both files completely, without writing anything.

    Raises :class:`BackupError` for a wrong key, an altered or truncated file, a backup of
    another database vendor or migration state, or a key file that does not cover the data.
    """
    ring = configured_ring()
    plan = RestorePlan(
        data=BackupReader(data_path, kind=DATA, ring=ring),
        keys=BackupReader(keys_path, kind=KEYS, ring=ring),
    )
    require_tables(replaced_tables())
    _check_compatible(plan.data, data_tables())
    _check_compatible(plan.keys, key_tables())
    journal_table = ShredRecord._meta.db_table
    progress(f"Vérification de {plan.data.path}…")
    file_journal: Journal = {}
    for table, row in _file_rows(plan.data, data_tables()):
        for position in table.key_columns:
            if row[position] is not None:
                plan.referenced.add(key_hex(row[position]))
        if table.name == journal_table:
            _note(file_journal, *_journal_entry(table, row))
    progress(f"Vérification de {plan.keys.path}…")
    key_table = key_tables()[0]
    id_at = key_table.columns.index(DataKey._meta.pk.column)
    wrapped_at = key_table.columns.index("wrapped_key")
    master_at = key_table.columns.index("master_key_id")
    masters: dict[str, int] = {}
    for table, row in _file_rows(plan.keys, key_tables()):
        if table.name == journal_table:
            _note(file_journal, *_journal_entry(table, row))
            continue
        plan.key_ids.add(key_hex(row[id_at]))
        if row[wrapped_at] is not None:
            masters[row[master_at]] = masters.get(row[master_at], 0) + 1
    plan.journal = file_journal
    try:
        configured = set(master_key_ring().by_id)
    except ImproperlyConfigured:
        configured = set()
    plan.unknown_masters = {m: n for m, n in masters.items() if m not in configured}
    _uncovered(plan, _merge(plan.journal, _live_journal()))
    return plan


def _uncovered(plan: RestorePlan, journal: Journal) -> None:
    lost = plan.missing_keys - set(journal)
    if lost:
        raise BackupError(
            f"Les fichiers ne correspondent pas : {len(lost)} clé{plural(len(lost))} de données "
            f"utilisée{plural(len(lost))} par la sauvegarde du "
            f"{plan.data.header.get('created_at')} {'manquent' if len(lost) > 1 else 'manque'} "
            "au fichier de "
            f"clés du {plan.keys.header.get('created_at')} (fichier de clés plus ancien que la "
            "sauvegarde ?). Utilisez un fichier de clés écrit après la sauvegarde."
        )


# --- Restoring -------------------------------------------------------------------------------
def _execute(sql: str, params: Any = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _empty(tables: list[Table]) -> None:
    """Delete every row, referencing tables first (foreign keys are checked at the end)."""
    qn = connection.ops.quote_name
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        _execute(f"LOCK TABLE {', '.join(qn(t.name) for t in tables)} IN ACCESS EXCLUSIVE MODE")
        # The audit triggers refuse these DELETEs (audit 0007): the tables' owner, which a
        # restore runs as, switches them off inside this transaction only, until the restored
        # rows are checked (_audit_triggers_on). No foreign-key check may be pending then.
        connection.check_constraints()
        for guarded in _AUDIT_GUARDED:
            _execute(f"ALTER TABLE {guarded} DISABLE TRIGGER USER")
    for table in reversed(tables):
        _execute(f"DELETE FROM {qn(table.name)}")  # noqa: S608 (quoted model metadata)


_AUDIT_GUARDED = ("audit_event", "audit_chainlink", "audit_chainhead")


def _audit_triggers_on() -> None:
    """Back on, once the foreign keys are checked (PostgreSQL: no check may be pending)."""
    if connection.vendor == "postgresql":
        for table in _AUDIT_GUARDED:
            _execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _load(reader: BackupReader, tables: list[Table], *, skip: Iterable[str] = ()) -> int:
    """Insert the file's rows (all but the ``skip`` tables), in batches; returns rows inserted."""
    qn = connection.ops.quote_name
    skipped = set(skip)
    inserted = 0
    batch: list[list[Any]] = []
    current: Table | None = None

    def flush() -> None:
        nonlocal inserted
        if current is None or not batch:
            return
        columns = ", ".join(qn(c) for c in current.columns)
        marks = ", ".join(["%s"] * len(current.columns))
        sql = f"INSERT INTO {qn(current.name)} ({columns}) VALUES ({marks})"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        inserted += len(batch)
        batch.clear()

    for table, row in _file_rows(reader, tables):
        if table is not current:
            flush()
            current = table
        if table.name not in skipped:
            batch.append([decode_value(v) for v in row])
            if len(batch) >= INSERT_ROWS:
                flush()
    flush()
    return inserted


def _reset_sequences(tables: list[Table]) -> None:
    """Auto-increment sequences continue after the restored ids (PostgreSQL; SQLite does it)."""
    for sql in connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables]):
        _execute(sql)


def _head() -> tuple[int, str]:
    head = ChainHead.objects.filter(pk=CHAIN_HEAD_PK).values_list("last_seq", "last_hash").first()
    return head or (0, "")


def _replay(journal: Journal) -> tuple[int, int]:
    """Destroy again every journaled key present in the restored key store; keep every entry.

    Returns (keys destroyed, journal entries added).
    """
    ids = [uuid.UUID(k) for k in journal]
    present: set[str] = set()
    for start in range(0, len(ids), INSERT_ROWS):
        present.update(
            k.hex
            for k in DataKey.objects.filter(
                pk__in=ids[start : start + INSERT_ROWS], wrapped_key__isnull=False
            ).values_list("pk", flat=True)
        )
    journaled = {k.hex for k in ShredRecord.objects.values_list("data_key_id", flat=True)}
    replayed = sum(services.replay_shred(uuid.UUID(k), journal[k]) for k in sorted(present))
    missing = [k for k in sorted(journal) if k not in journaled and k not in present]
    ShredRecord.objects.bulk_create(
        [ShredRecord(data_key_id=uuid.UUID(k), shredded_at=journal[k]) for k in missing],
        batch_size=INSERT_ROWS,
    )
    # Rows restored from before an erasure still carry blind indexes, even when the key file
    # (newer) already had the key destroyed.
    services.clear_blind_indexes_of(ids)
    return replayed, len(missing) + sum(1 for k in present if k not in journaled)


def restore(plan: RestorePlan, *, actor: Any = None, progress: Progress = silent) -> dict:
    """Replace the database content with the two verified files, then replay the erasures.

    One transaction: on any failure the database is left as it was. Recorded as
    ``vault:backup:restore``, appended to the restored audit chain. Returns the counts.
    """
    tables = data_tables()
    replaced = replaced_tables()
    try:
        # The chain as it stands, every event written so far placed, is named in the restore's
        # own event: what the restore replaced stays on the record.
        sequence_all()
        with transaction.atomic():
            previous_seq, previous_hash = _head()
            live = _live_journal()
            progress("Suppression du contenu actuel…")
            _empty(replaced)
            progress("Chargement des clés…")
            keys = _load(plan.keys, key_tables(), skip=[ShredRecord._meta.db_table])
            progress("Chargement des données…")
            rows = _load(plan.data, tables)
            journal = _merge(plan.journal, live)
            _uncovered(plan, journal)
            DataKey.objects.bulk_create(
                [
                    DataKey(
                        id=uuid.UUID(k),
                        wrapped_key=None,
                        master_key_id="",
                        created_at=journal[k],
                        shredded_at=journal[k],
                    )
                    for k in sorted(plan.missing_keys)
                ],
                batch_size=INSERT_ROWS,
            )
            connection.check_constraints(table_names=[t.name for t in replaced])
            _audit_triggers_on()
            _reset_sequences(tables)
            progress("Vérification du contenu restauré…")
            if content_hash(table_digests(tables)) != plan.data.header["content_sha256"]:
                raise BackupError(
                    "Le contenu chargé diffère de la sauvegarde : restauration annulée."
                )
            progress("Rejeu du journal des effacements…")
            replayed, added = _replay(journal)
            forgotten = sum(
                int(count or 0)
                for _, count in signals.erasure_replayed.send(
                    sender=restore, data_key_ids=[uuid.UUID(k) for k in sorted(journal)]
                )
            )
            restored_seq, _ = _head()
            # The restored head's horizon names transactions of the time of the backup: the
            # sequencer takes a new one (its watermark, an event id, stays valid).
            ChainHead.objects.filter(pk=CHAIN_HEAD_PK).update(horizon_id=None, horizon_xmax=None)
            report = {
                "tables": len(tables),
                "rows": rows,
                "keys": keys,
                "tombstones": len(plan.missing_keys),
                "journal": len(journal),
                "replayed": replayed,
                "journal_added": added,
                "forgotten": forgotten,
                "previous_head_seq": previous_seq,
                "previous_head_hash": previous_hash,
                "restored_head_seq": restored_seq,
                "backup_created_at": plan.data.header["created_at"],
                "keys_created_at": plan.keys.header["created_at"],
            }
            audit.record(
                VaultTag.BACKUP_RESTORE,
                actor=actor,
                target=f"backup:{plan.data.header['file_id']}",
                details=report,
            )
    except DatabaseError as exc:
        raise BackupError(f"Échec de la restauration, base inchangée : {exc}") from exc
    finally:
        services.clear_key_cache()
        ContentType.objects.clear_cache()
    return report
