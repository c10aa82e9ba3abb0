"""Bulk import of members from the legacy system (``manage.py import_members``).

The CSV format is described in :mod:`mutualis.contracts.member_import.csv_format` and
``docs/import_members.md``. What an import guarantees:

- **Same rules as the online form.** Each row becomes an :class:`Application` checked by
  :func:`check_application` (``imported=True``: the contract may have started in the past). The
  database facts it needs (offers, NIRs already registered) are fetched once per batch
  (:class:`Lookups`). On top of the form's rules: a NIR given on two rows of the file rejects
  every row that carries it (which one is right cannot be told), a legacy reference given twice
  rejects the later rows, and values longer than their column reject their row.
- **A row is all in or all out.** Its people, member, beneficiaries, contract and SEPA mandate
  are written together. Rows are written by batches (one transaction per batch, one
  ``executemany`` per table, sensitive fields encrypted by the vault fields under each person's
  new data key: :mod:`mutualis.contracts.member_import.rows`); when the database refuses a batch
  (integrity or data error) the batch is replayed row by row, each row in its own savepoint, so
  only the faulty row is rejected. Other database errors stop the run.
- **Idempotent and resumable.** ``Member.legacy_reference`` is unique: a row whose reference
  was already imported is skipped and counted as "déjà importé". Committed batches stay when a
  run is interrupted; running the same file again completes it.
- **Audited, without personal data.** One ``contracts:import:batch`` event per batch (counts,
  batch number, ids of the members created), written last in the batch transaction; one
  ``contracts:import:run`` event for the run (counts, duration, SHA-256 of the file).
- **A rejection report** (CSV: line, legacy reference, column, reason) that never holds a NIR,
  an IBAN or any other value of the row: the reasons are those of the form, and ours name the
  column, never its content.
- Imported members get **no account and no e-mail**: they create their access later (password
  reset, or an invitation sent by staff).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.db import DataError, IntegrityError, connection, transaction

from mutualis import audit
from mutualis.billing import services as billing
from mutualis.contracts.application import Lookups, Problem, check_application
from mutualis.contracts.member_import.csv_format import (
    FileScan,
    Header,
    ImportFileError,
    ParsedRow,
    RowParser,
    iter_records,
    read_header,
    scan,
)
from mutualis.contracts.member_import.rows import RowWriter
from mutualis.contracts.models import Contract, Offer, new_contract_number
from mutualis.contracts.tags import ContractsTag
from mutualis.lib.cli import os_error
from mutualis.members.models import Member, Person, new_member_number
from mutualis.members.validators import normalize_nir
from mutualis.privacy.models import PolicyVersion

__all__ = ["ImportFileError", "ImportResult", "Rejection", "import_members"]

DEFAULT_BATCH_SIZE = 1000
# Parameters per query stay far below every backend's limit (SQLite: 32766 since 3.32).
_LOOKUP_CHUNK = 900
REPORT_COLUMNS = ("ligne", "reference_ancienne", "colonne", "motif")
_DATABASE_REFUSAL = {
    IntegrityError: (
        "La base de données refuse la ligne (conflit avec une donnée déjà enregistrée, par "
        "exemple un numéro de sécurité sociale ou une référence ancienne importés entre-temps)."
    ),
    DataError: "La base de données refuse une valeur de la ligne (longueur ou format).",
}


@dataclass(frozen=True)
class Rejection:
    line: int
    legacy_reference: str
    column: str
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0  # in a dry run: rows that would be imported
    already_imported: int = 0
    rejected: int = 0
    batches: int = 0
    replayed_batches: int = 0  # batches the database refused, replayed row by row
    elapsed: float = 0.0
    dry_run: bool = False
    file_sha256: str = ""


@dataclass
class _Batch:
    number: int
    rows: int = 0
    valid: list[ParsedRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    already_imported: int = 0
    nir_indexes: dict[str, str | None] = field(default_factory=dict)  # compact NIR -> blind index


def _chunks(values: list, size: int = _LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _policy_version() -> PolicyVersion:
    """The version imported contracts record, as ``subscribe(imported=True)`` does."""
    version = PolicyVersion.objects.published().first()
    if version is None:
        raise ImportFileError(
            "Aucune version de la politique de confidentialité n'est publiée : publiez-la "
            "d'abord (manage.py publish_policy). Aucune ligne n'a été importée."
        )
    return version


class _Importer:
    def __init__(
        self, *, header: Header, file_scan: FileScan, policy_version: PolicyVersion, actor
    ) -> None:
        self.header = header
        self.scan = file_scan
        self.actor = actor
        self.parser = RowParser(header)
        self.offers = {offer.code: offer for offer in Offer.objects.available()}
        self.policy_version = policy_version
        self._nir_index = Person._meta.get_field("nir_index").index_for
        self._known_indexes: dict[str, str | None] = {}  # those of the batch being written

    # --- Checking --------------------------------------------------------------------------
    def check(self, number: int, rows: list[ParsedRow]) -> _Batch:
        """Sort the rows of a batch into valid ones, rejections and already imported ones."""
        batch = _Batch(number=number, rows=len(rows))
        pending = []
        for row in rows:
            if row.application is None:
                batch.rejections += self._rejections(row, row.problems)
            elif row.line in self.scan.duplicate_references:
                first = self.scan.duplicate_references[row.line]
                reason = (
                    f"Cette référence ancienne figure déjà à la ligne {first} du fichier : "
                    "seule la première ligne est prise en compte."
                )
                batch.rejections.append(
                    Rejection(row.line, row.legacy_reference, "legacy_reference", reason)
                )
            else:
                pending.append(row)
        existing = self._existing_references([r.legacy_reference for r in pending])
        indexes = {nir: self._nir_index(nir) for row in pending for _column, nir in row.nirs}
        batch.nir_indexes = indexes  # the writer stores them too
        registered = self._registered_nir_indexes(list(indexes.values()))
        lookups = Lookups(
            offer_codes=frozenset(self.offers),
            nir_is_registered=lambda nir: (
                (indexes.get(normalize_nir(nir)) or self._nir_index(normalize_nir(nir)))
                in registered
            ),
        )
        for row in pending:
            if row.legacy_reference in existing:
                batch.already_imported += 1
                continue
            problems = list(row.problems)
            for column, others in self.scan.duplicate_nirs.get(row.line, []):
                lines = ", ".join(str(line) for line in others)
                where = f"à la ligne {lines}" if len(others) == 1 else f"aux lignes {lines}"
                problems.append(
                    Problem(
                        column,
                        f"Ce numéro de sécurité sociale figure aussi {where} du fichier : "
                        "aucune des lignes qui le portent n'est importée.",
                    )
                )
            reported = {problem.field for problem in row.problems}
            for problem in check_application(row.application, imported=True, lookups=lookups):
                column = row.column_of(problem.field)
                if column not in reported:
                    problems.append(Problem(column, problem.message))
            if problems:
                batch.rejections += self._rejections(row, problems)
            else:
                batch.valid.append(row)
        return batch

    @staticmethod
    def _rejections(row: ParsedRow, problems: Iterable[Problem]) -> list[Rejection]:
        return [Rejection(row.line, row.legacy_reference, p.field, p.message) for p in problems]

    @staticmethod
    def _existing_references(references: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks([r for r in references if r]):
            found.update(
                Member.objects.filter(legacy_reference__in=chunk).values_list(
                    "legacy_reference", flat=True
                )
            )
        return found

    @staticmethod
    def _registered_nir_indexes(indexes: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(indexes):
            found.update(
                Person.objects.filter(nir_index__in=chunk).values_list("nir_index", flat=True)
            )
        return found

    # --- Writing ---------------------------------------------------------------------------
    @cached_property
    def writer(self) -> RowWriter:
        return RowWriter(
            connection,
            offer_ids={code: offer.pk for code, offer in self.offers.items()},
            policy_version_id=self.policy_version.pk,
            # Checked once per run, not once per mandate.
            creditor_identifier=billing.creditor_identifier(),
            nir_index=self._index_of,
        )

    def _index_of(self, nir: str) -> str | None:
        return self._known_indexes.get(nir) or self._nir_index(nir)

    def _insert(self, rows: list[ParsedRow]) -> list[str]:
        """Write the rows (valid, checked), with member and contract numbers unused so far;
        return the ids of the members created."""
        applications = [row.application for row in rows if row.application is not None]
        return self.writer.write(
            zip(
                applications,
                _unused_numbers(Member, len(applications), new_member_number),
                _unused_numbers(Contract, len(applications), new_contract_number),
                strict=True,
            )
        )

    def write(self, batch: _Batch) -> tuple[list[str], bool]:
        """Write the valid rows of ``batch`` and its audit event; return the ids of the members
        created and whether the batch had to be replayed row by row."""
        self._known_indexes = batch.nir_indexes
        try:
            with transaction.atomic():
                created = self._insert(batch.valid)
                self._record_batch(batch, created, replayed=False)
            return created, False
        except (IntegrityError, DataError):
            pass
        with transaction.atomic():
            created = []
            refused = []
            for row in batch.valid:
                try:
                    with transaction.atomic():
                        created += self._insert([row])
                except (IntegrityError, DataError) as exc:
                    reason = next(r for t, r in _DATABASE_REFUSAL.items() if isinstance(exc, t))
                    refused.append(Rejection(row.line, row.legacy_reference, "", reason))
            self._record_batch(batch, created, replayed=True)
        batch.rejections += refused
        return created, True

    def _record_batch(self, batch: _Batch, created: list[str], *, replayed: bool) -> None:
        audit.record(
            ContractsTag.IMPORT_BATCH,
            actor=self.actor,
            details={
                "file_sha256": self.scan.sha256,
                "batch": batch.number,
                "rows": batch.rows,
                "imported": len(created),
                "already_imported": batch.already_imported,
                "rejected": batch.rows - len(created) - batch.already_imported,
                "replayed_row_by_row": replayed,
                "members": created,
            },
        )


def _unused_numbers(model, count: int, make: Callable[[], str]) -> list[str]:
    """``count`` fresh random numbers that no row of ``model`` holds (one query per round)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        fresh = [n for n in {make() for _ in range(count - len(numbers))} if n not in numbers]
        taken: set[str] = set()
        for chunk in _chunks(fresh):
            taken.update(model.objects.filter(number__in=chunk).values_list("number", flat=True))
        numbers.update(n for n in fresh if n not in taken)
    return list(numbers)


class _Report:
    """The rejection report: written as the import goes, one line per problem."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle = None
        self._writer = None

    def __enter__(self) -> _Report:
        if self.path is not None:
            try:
                # UTF-8 with a byte-order mark and ";": what a spreadsheet in French opens as is.
                self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise ImportFileError(
                    f"Impossible d'écrire le rapport des rejets ({os_error(exc)}). "
                    "Aucune ligne n'a été importée."
                ) from None
            self._writer = csv.writer(self._handle, delimiter=";")
            self._writer.writerow(REPORT_COLUMNS)
        return self

    def write(self, rejections: Iterable[Rejection]) -> None:
        if self._writer is not None:
            self._writer.writerows(
                (r.line, r.legacy_reference, r.column, r.reason) for r in rejections
            )

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            self._handle.close()


@contextlib.contextmanager
def _collect_per_batch() -> Iterator[Callable[[], None]]:
    """Run the cyclic garbage collector once per batch instead of automatically.

    A batch allocates tens of thousands of short-lived objects (rows, models, SQL parameters),
    which would trigger the collector hundreds of times per batch; collecting the youngest
    generation after each batch frees the same cycles (model instances and their caches) for a
    few per cent less CPU. The collector's state is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(0)
    finally:
        if enabled:
            gc.enable()


def _batches(importer: _Importer, path: Path, size: int) -> Iterator[list[ParsedRow]]:
    rows: list[ParsedRow] = []
    for line, cells in iter_records(path, importer.header):
        rows.append(importer.parser.parse(line, cells))
        if len(rows) >= size:
            yield rows
            rows = []
    if rows:
        yield rows


def _run_batch(
    importer: _Importer,
    number: int,
    rows: list[ParsedRow],
    *,
    dry_run: bool,
    report: _Report,
    result: ImportResult,
) -> None:
    batch = importer.check(number, rows)
    if dry_run:
        imported = len(batch.valid)
    else:
        created, replayed = importer.write(batch)
        imported = len(created)
        result.replayed_batches += replayed
    report.write(sorted(batch.rejections, key=lambda r: r.line))
    result.batches = number
    result.imported += imported
    result.already_imported += batch.already_imported
    result.rejected += batch.rows - imported - batch.already_imported


def import_members(
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    report_path: Path | None = None,
    dry_run: bool = False,
    actor=None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import the members of a legacy CSV file; see the module docstring for the guarantees.

    Raises :class:`ImportFileError` (French message) before writing anything when the file
    cannot be read, has wrong columns, or no privacy-policy version is published. A dry run
    checks every row (database lookups included) and writes the report, but no member.
    ``on_start(total rows)`` and ``on_progress(rows done)`` drive a progress bar.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    started = time.monotonic()
    header = read_header(path)
    policy_version = _policy_version()
    file_scan = scan(path, header)
    importer = _Importer(
        header=header, file_scan=file_scan, policy_version=policy_version, actor=actor
    )
    result = ImportResult(rows=file_scan.rows, dry_run=dry_run, file_sha256=file_scan.sha256)
    if on_start:
        on_start(file_scan.rows)
    with _Report(report_path) as report, _collect_per_batch() as collect:
        for number, rows in enumerate(_batches(importer, path, batch_size), start=1):
            _run_batch(importer, number, rows, dry_run=dry_run, report=report, result=result)
            if on_progress:
                on_progress(len(rows))
            del rows  # the batch's objects are garbage now: collect them
            collect()
    result.elapsed = time.monotonic() - started
    with transaction.atomic():
        audit.record(
            ContractsTag.IMPORT_RUN,
            actor=actor,
            details={
                "file_sha256": result.file_sha256,
                "dry_run": dry_run,
                "rows": result.rows,
                "imported": result.imported,
                "already_imported": result.already_imported,
                "rejected": result.rejected,
                "batches": result.batches,
                "replayed_batches": result.replayed_batches,
                "duration_ms": int(result.elapsed * 1000),
            },
        )
    return result
