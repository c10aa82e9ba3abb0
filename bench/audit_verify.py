"""``audit_verify`` over a long log, against reading the same rows raw and hashing them.

    .venv/bin/python bench/audit_verify.py [--events 10000000] [--database-url postgres://…]

Builds N audit events with their links (``mutualis.audit.bulk``: the same content, MACs and
hashes as the product writes, streamed with COPY), then, each in a fresh process so that its peak
memory is its own:

- **ours**: ``verify_chain()`` — every MAC and every link recomputed, in chunks;
- **raw**: the same rows read by the same keyed query, chunk by chunk, each row's columns hashed
  with ``hashlib.sha256`` (no JSON, no MAC, no chain).

It prints events per second for both, the ratio (target: at least 0.5) and the peak resident
memory of each process (it must not grow with N: compare two sizes). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, peak_rss_mib, report, scratch_database, setup_django

TAGS = ("members:member:update", "contracts:contract:create", "rights:request:create")
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, help="members of the suite's scale: events = 10 × N")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    args = parser.parse_args(argv)
    if args.scale:
        args.events = 10 * args.scale
    return args


def build(n: int) -> None:
    import uuid

    from mutualis.audit.bulk import BulkEvent, write_events

    def events():
        for i in range(n):
            subject = uuid.UUID(int=i + 1)
            yield BulkEvent(
                at=START + datetime.timedelta(seconds=i),
                tag=TAGS[i % 3],
                actor=f"user:{i % 5000}",
                subject_id=str(subject),
                target=f"members.person:{subject}",
                details={"fields": ["email", "phone"], "n": i},
            )

    write_events(events(), chunk=20_000)


def _ours(queue) -> None:
    from mutualis.audit.verify import verify_chain

    began = time.perf_counter()
    result = verify_chain(chunk_size=10_000)
    elapsed = time.perf_counter() - began
    queue.put((result.checked, elapsed, peak_rss_mib(), result.ok))


_RAW = (
    "SELECT l.seq, l.hash, e.id, e.uid, e.at, e.actor, e.tag, e.subject_id, e.target, "
    "e.details, e.mac FROM audit_chainlink l JOIN audit_event e ON e.id = l.event_id "
    "WHERE l.seq > %s ORDER BY l.seq LIMIT %s"
)


def _raw(queue) -> None:
    import hashlib

    from django.db import connection

    began = time.perf_counter()
    count, after = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_RAW, [after, 10_000])
            rows = cursor.fetchall()
            if not rows:
                break
            for row in rows:
                hashlib.sha256("\x1f".join(map(str, row)).encode()).hexdigest()
            count += len(rows)
            after = rows[-1][0]
    queue.put((count, time.perf_counter() - began, peak_rss_mib(), True))


def _in_process(target) -> tuple[int, float, float, bool]:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _child(target, queue) -> None:
    from django.db import connections

    connections.close_all()
    target(queue)


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    url, drop = scratch_database(args.database_url, workdir, "verify")
    setup_django(url, workdir)
    from django.db import connection

    vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    try:
        began = time.perf_counter()
        build(args.events)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE audit_event")
                cursor.execute("VACUUM ANALYZE audit_chainlink")
        print(f"{vendor}: {args.events:,} events built in {time.perf_counter() - began:.0f} s")
        _in_process(_raw)  # warm the pages both sides read
        raw = _in_process(_raw)
        ours = _in_process(_ours)
        assert ours[3], "the generated chain should verify"
        assert ours[0] == raw[0] == args.events, (ours[0], raw[0])
        print(
            f"  peak memory: verify {ours[2]:.0f} MiB, raw read {raw[2]:.0f} MiB "
            f"({args.events:,} events)"
        )
        print(
            "RESULT-EXTRA "
            + json.dumps({"events": args.events, "rss_verify": ours[2], "rss_raw": raw[2]})
        )
        return [
            report(
                Result.of(
                    f"audit_verify, {args.events:,} events, {vendor}",
                    ours[0] / ours[1],
                    raw[0] / raw[1],
                    "events/s",
                    ">= 0.5",
                )
            )
        ]
    finally:
        drop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
