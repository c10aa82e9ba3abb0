"""Audit append throughput under concurrent writers, against a plain INSERT of the same row.

    .venv/bin/python bench/audit_append.py [--writers 1,4,16] [--seconds 6] \\
        [--database-url postgres://…]

For each number of writers N, N processes write for the given time, one event per transaction:

- **ours**: ``with transaction.atomic(): audit.record(...)`` — the product's append path, with
  the sequencer (``manage.py audit_sequence --follow``'s loop) running in a process of its own
  beside them, as in production;
- **plain**: ``with transaction.atomic(): cursor.execute("INSERT …")`` of the same row into a
  table of the same shape as the audit events' table (same columns, same indexes), no audit.

It prints events per second for both and the ratio (targets: at least 0.7 at one writer and 0.8
at sixteen, rising with writers), then how long the sequencer took to place the backlog left
when the writers stopped, and checks the chain with ``audit_verify``. SQLite lives in a temporary
directory; with ``--database-url`` a scratch PostgreSQL database is created beside the one named
and dropped at the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, report, scratch_database, setup_django

TAG = "bench:event:write"
DETAILS = {"fields": ["email", "phone"], "count": 3, "source": "bench"}
TARGETS = {1: ">= 0.7", 16: ">= 0.8"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,4,16", help="comma-separated writer counts")
    parser.add_argument("--seconds", type=float, default=6.0, help="writing time per side")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the time of each side is split in rounds, alternating ours and plain, so that a "
        "change in the machine's load falls on both",
    )
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--scale", type=int, help="ignored (the suite's common option)")
    return parser.parse_args(argv)


# --- The two sides -------------------------------------------------------------------------
def _write_ours(deadline: float) -> int:
    from django.db import transaction

    from mutualis import audit

    count = 0
    while time.monotonic() < deadline:
        subject = uuid.uuid4()
        with transaction.atomic():
            audit.record(
                TAG,
                actor="staff:12",
                subject=subject,
                target=f"members.person:{subject}",
                details=DETAILS,
            )
        count += 1
    return count


def _write_plain(deadline: float) -> int:
    from django.db import connection, transaction

    sql, make_row = plain_insert()
    count = 0
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            with transaction.atomic():
                cursor.execute(sql, make_row())
            count += 1
    return count


def plain_insert():
    """The INSERT of one row like ``record()`` writes, into the plain table, and a row maker."""
    import json
    import secrets

    from django.db import connection
    from django.utils import timezone

    columns = [c for c in event_columns() if c != "id"]
    details = json.dumps(DETAILS, sort_keys=True, separators=(",", ":"))

    def value(column: str):
        subject = uuid.uuid4()
        return {
            "seq": int.from_bytes(secrets.token_bytes(7), "big"),
            "uid": subject.hex if connection.vendor == "sqlite" else subject,
            "at": timezone.now(),
            "actor": "staff:12",
            "tag": TAG,
            "subject_id": str(subject),
            "target": f"members.person:{subject}",
            "details": details,
            "prev_hash": secrets.token_hex(32),
            "hash": secrets.token_hex(32),
            "mac": secrets.token_hex(8) + ":" + secrets.token_hex(32),
        }[column]

    placeholders = ", ".join("%s" for _ in columns)
    sql = f"INSERT INTO bench_plain ({', '.join(columns)}) VALUES ({placeholders})"
    return sql, lambda: [value(c) for c in columns]


def event_columns() -> list[str]:
    from mutualis.audit.models import Event

    return [f.column for f in Event._meta.concrete_fields]


def create_plain_table() -> None:
    """``bench_plain``: the audit events' table again, same columns and indexes, no trigger."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain")
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TABLE bench_plain (LIKE audit_event INCLUDING INDEXES INCLUDING "
                "CONSTRAINTS)"
            )
            cursor.execute(
                "ALTER TABLE bench_plain ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
            )
            return
        cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_event'")
        for (sql,) in cursor.fetchall():
            if sql:
                cursor.execute(
                    sql.replace('"audit_event"', '"bench_plain"').replace(
                        "audit_event_", "bench_plain_"
                    )
                )


# --- Processes -----------------------------------------------------------------------------
def _writer(side: str, start, seconds: float, results) -> None:
    from django.db import connections

    connections.close_all()
    write = _write_ours if side == "ours" else _write_plain
    write(time.monotonic() + 0.5)  # warm-up: connection, caches, first pages
    start.wait()
    results.put(write(time.monotonic() + seconds))
    connections.close_all()


def _sequencer(stop) -> None:
    from django.db import connections

    from mutualis.audit.sequencer import sequence

    connections.close_all()
    while not stop.is_set():
        if not sequence():
            time.sleep(0.05)
    connections.close_all()


def has_sequencer() -> bool:
    try:
        import mutualis.audit.sequencer  # noqa: F401
    except ImportError:
        return False
    return True


def measure(side: str, writers: int, seconds: float) -> tuple[int, float]:
    """Events written by ``writers`` processes in ``seconds``: (count, elapsed)."""
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    start, stop, results = ctx.Barrier(writers + 1), ctx.Event(), ctx.Queue()
    sequencer = None
    if side == "ours" and has_sequencer():
        sequencer = ctx.Process(target=_sequencer, args=(stop,))
        sequencer.start()
    procs = [
        ctx.Process(target=_writer, args=(side, start, seconds, results)) for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    start.wait()
    began = time.monotonic()
    total = sum(results.get() for _ in procs)
    elapsed = time.monotonic() - began
    for proc in procs:
        proc.join()
    if sequencer is not None:
        stop.set()
        sequencer.join()
    return total, elapsed


def drain_backlog() -> tuple[int, float]:
    """Place what the writers left unplaced; returns (events, seconds)."""
    if not has_sequencer():
        return 0, 0.0
    from mutualis.audit.sequencer import sequence

    began = time.monotonic()
    placed = 0
    while n := sequence():
        placed += n
    return placed, time.monotonic() - began


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    counts = [int(n) for n in args.writers.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    url, drop = scratch_database(args.database_url, workdir, "audit")
    setup_django(url, workdir)
    from django.core.management import call_command
    from django.db import connection

    vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    create_plain_table()
    print(f"{vendor}, {os.cpu_count()} CPU, {args.seconds:g} s per measure")
    results = []
    try:
        for writers in counts:
            sides = {"ours": [0, 0.0], "plain": [0, 0.0]}
            for _ in range(args.rounds):
                for side in sides:
                    count, elapsed = measure(side, writers, args.seconds / args.rounds)
                    sides[side][0] += count
                    sides[side][1] += elapsed
            ours, plain = (count / elapsed for count, elapsed in sides.values())
            target = TARGETS.get(writers, ">= 0.7")
            results.append(
                report(
                    Result.of(
                        f"audit append, {writers} writer(s), {vendor}",
                        ours,
                        plain,
                        "events/s",
                        target,
                    )
                )
            )
            placed, took = drain_backlog()
            if placed:
                print(
                    f"  backlog after the writers stopped: {placed} events placed in {took:.2f} s"
                )
        call_command("audit_verify", verbosity=1)
    finally:
        drop()
    return results


if __name__ == "__main__":
    main()
