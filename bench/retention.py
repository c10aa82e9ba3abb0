"""Benchmark of ``manage.py enforce_retention`` against raw SQL, in a database of N members.

    .venv/bin/python bench/retention.py --members 1000000 --rows 1000000
    .venv/bin/python bench/retention.py --members 1000000 --rows 1000000 \\
        --database-url postgres://bench@127.0.0.1:5434/postgres

Builds a database of ``--members`` members with ``manage.py generate_members``' builder (or
copies the suite's, ``bench/run.py``), then adds N expired rows across the declared models of the
``contact`` app — old inquiries (three years after the last contact) with their messages, and
attachments of e-mails received more than three months ago — plus the e-mails themselves
(anonymised, not deleted) and some recent rows that must stay. The generated members'
correspondence (a few inquiries and messages each, none expired) fills the same tables: the
deletions run against tables and indexes of the full size. Two copies of that database, in the
same run (with the suite's base, each side's copy is made just before it runs, so both read
pages as warm):

- **engine**: ``enforce_retention --only contact`` with the command's defaults (batches of
  5,000 rows to start with, adapted to take about a second each on PostgreSQL, three on
  SQLite; one transaction and one audit event per batch; the run's own audit event and
  report);
- **raw**: on the other copy, the same rows removed by hand-written SQL (three DELETEs and one
  UPDATE in one transaction: no batches, no audit).

Why these rows: the retention engine's cost is per expired row (select a batch, delete or
anonymise it, check what refers to it, audit the batch); a generated database has almost nothing
expired (its history is younger than any rule), so expired rows are added, as many as asked,
into the tables of the full-size database. It prints rows/s for both and the ratio engine/raw
(target: at least 1/2) and checks that both leave the same rows. SQLite lives in a temporary
directory; with ``--database-url`` scratch PostgreSQL databases are created beside the one named
and dropped at the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402
    Result,
    close_for_copy,
    copy_database,
    generated_database,
    report,
    suite_base,
)

OLD_CONTACT = datetime.datetime(2022, 1, 10, 9, 0, tzinfo=datetime.UTC)
OLD_EMAIL = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
RECENT = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
AS_OF = "2026-11-26"
ATTACHMENTS_PER_EMAIL = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="generated members")
    parser.add_argument("--rows", type=int, default=100_000, help="expired rows to remove")
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="first batch (command default)"
    )
    parser.add_argument(
        "--batch-seconds", type=float, help="target per batch (0: fixed size; command default)"
    )
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--scale", type=int, help="the suite's common option: --members")
    args = parser.parse_args(argv)
    if args.scale:
        args.members = args.scale
    return args


def use_database(url: str) -> None:
    """Point this process's connection at another database of the same server (or file)."""
    from django.db import connections

    connections.close_all()
    settings = connections["default"].settings_dict
    sqlite = url.startswith("sqlite")
    settings["NAME"] = url[len("sqlite:///") :] if sqlite else url.rsplit("/", 1)[1]


INQUIRY_COLUMNS = (
    "id",
    "reference",
    "channel",
    "subject",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_address",
    "service",
    "status",
    "received_at",
    "answer_due",
    "last_contact_at",
)
MESSAGE_COLUMNS = ("id", "inquiry_id", "direction", "channel", "at", "sender", "body", "source_id")
ATTACHMENT_COLUMNS = ("id", "message_id", "filename", "content_type", "size", "content")


def insert(table: str, columns: tuple[str, ...], rows) -> None:
    """Bulk insert: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

    Runs on the driver's cursor inside the caller's transaction; values are already in the
    driver's types (UUID hex strings and ISO datetimes on SQLite).
    """
    from django.db import connection

    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.cursor()
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        return
    with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def build(rows: int) -> dict[str, int]:
    """Insert the data set in bulk; returns the expected effect per table."""
    from django.db import connection, transaction

    quarter = rows // 4
    emails = max(1, (rows - 2 * quarter) // ATTACHMENTS_PER_EMAIL)
    attachments = rows - 2 * quarter
    recent_inquiries = max(1, rows // 100)
    sqlite = connection.vendor == "sqlite"
    t = connection.ops.adapt_datetimefield_value if sqlite else (lambda value: value)
    d = str if sqlite else (lambda value: value)
    u = (lambda: uuid.uuid4().hex) if sqlite else uuid.uuid4
    chunk_size = 50_000

    def inquiry(pk, reference, channel, subject, name, email, at):
        return (pk, reference, channel, subject, name, email, "", "", "relation_adherent",
                "closed", t(at), d(at.date()), t(at))  # fmt: skip

    with transaction.atomic():
        connection.ensure_connection()
        for start in range(0, quarter, chunk_size):
            chunk = range(start, min(quarter, start + chunk_size))
            inquiries = [(u(), f"O{i:011d}") for i in chunk]
            insert(
                "contact_inquiry",
                INQUIRY_COLUMNS,
                (
                    inquiry(
                        pk, ref, "web_form", "Question", "Visiteur", "v@example.com", OLD_CONTACT
                    )
                    for pk, ref in inquiries
                ),
            )
            insert(
                "contact_message",
                MESSAGE_COLUMNS,
                (
                    (u(), pk, "in", "web_form", t(OLD_CONTACT), "v@example.com", "Bonjour", None)
                    for pk, _ in inquiries
                ),
            )
        recent = [(u(), f"R{i:011d}") for i in range(recent_inquiries)]
        insert(
            "contact_inquiry",
            INQUIRY_COLUMNS,
            (
                inquiry(pk, ref, "email", "Récent", "Adhérent", "a@example.com", RECENT)
                for pk, ref in recent
            ),
        )
        email_ids = [u() for _ in range(emails)]
        insert(
            "contact_message",
            MESSAGE_COLUMNS,
            (
                (
                    pk,
                    recent[i % len(recent)][0],
                    "in",
                    "email",
                    t(OLD_EMAIL),
                    "a@example.com",
                    "Corps du courriel",
                    f"bench-{i}@example.com",
                )
                for i, pk in enumerate(email_ids)
            ),
        )
        for start in range(0, attachments, chunk_size):
            insert(
                "contact_attachment",
                ATTACHMENT_COLUMNS,
                (
                    (u(), email_ids[i % emails], "piece.pdf", "application/pdf", 9, b"%PDF-1.4\n")
                    for i in range(start, min(attachments, start + chunk_size))
                ),
            )
    analyze()
    return {"deleted": 2 * quarter + attachments, "anonymised": emails}


def analyze() -> None:
    """Fresh planner statistics, so that both runs start from the same knowledge of the data."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def engine_batches() -> int:
    from mutualis.privacy.models import RetentionRun

    return sum(step["batches"] for step in RetentionRun.objects.latest("started_at").report)


def survivors() -> tuple:
    from mutualis.contact.models import Attachment, Inquiry, Message

    return (
        Inquiry.objects.count(),
        Message.objects.count(),
        Message.objects.exclude(body="").count(),
        Attachment.objects.count(),
    )


def raw_removal() -> None:
    """What a DBA would type: the same effect, in one transaction, no batches, no audit."""
    from django.db import connection, transaction

    email_cutoff = "2026-08-26"
    contact_cutoff = "2023-11-26"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM contact_attachment WHERE message_id IN (SELECT id FROM contact_message "
            "WHERE channel = 'email' AND direction = 'in' AND at < %s)",
            [email_cutoff],
        )
        cursor.execute(
            "UPDATE contact_message SET body = '', sender = '', content_erased_at = %s "
            "WHERE channel = 'email' AND direction = 'in' AND at < %s "
            "AND content_erased_at IS NULL",
            [datetime.datetime.now(datetime.UTC), email_cutoff],
        )
        old = (
            "SELECT id FROM contact_inquiry WHERE last_contact_at < %s AND id NOT IN "
            "(SELECT inquiry_id FROM contact_complaint)"
        )
        cursor.execute(
            "DELETE FROM contact_attachment WHERE message_id IN (SELECT id FROM contact_message "
            f"WHERE inquiry_id IN ({old}))",
            [contact_cutoff],
        )
        cursor.execute(
            f"DELETE FROM contact_message WHERE inquiry_id IN ({old})",
            [contact_cutoff],
        )
        cursor.execute(
            "DELETE FROM contact_inquiry WHERE last_contact_at < %s AND id NOT IN "
            "(SELECT inquiry_id FROM contact_complaint)",
            [contact_cutoff],
        )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        url, drop = generated_database(
            args.database_url, workdir, "retention", members=args.members, seed=args.seed
        )
        drop_raw = lambda: None  # noqa: E731
        try:
            from django.core.management import call_command
            from django.db import connection

            vendor = connection.vendor
            # The raw side's copy: of the suite's base, made once the engine's copy is dropped,
            # so that each side runs right after its own copy was written (at 1,000,000 members
            # two copies outgrow the page cache, and the side on the older copy would read
            # cold pages); run alone, of this database before anything is added to it.
            base = suite_base(args.database_url, members=args.members, seed=args.seed)
            if base is None:
                close_for_copy()
                raw_url, drop_raw = copy_database(
                    {"url": url, "admin_url": args.database_url}, workdir, "retention_raw"
                )
            members, expired = (f"{n:,}".replace(",", " ") for n in (args.members, args.rows))
            print(f"Base : {vendor}, {members} adhérents, {expired} lignes expirées", flush=True)
            expected = build(args.rows)
            rows = expected["deleted"] + expected["anonymised"]
            started = time.perf_counter()
            with open(os.devnull, "w") as devnull:
                call_command(
                    "enforce_retention",
                    "--only",
                    "contact",
                    "--as-of",
                    AS_OF,
                    "--batch-size",
                    str(args.batch_size),
                    *(
                        ["--batch-seconds", str(args.batch_seconds)]
                        if args.batch_seconds is not None
                        else []
                    ),
                    stdout=devnull,
                )
            engine = time.perf_counter() - started
            after_engine = survivors()
            batches = engine_batches()

            if base is not None:
                close_for_copy()
                drop()
                drop = lambda: None  # noqa: E731
                raw_url, drop_raw = copy_database(base, workdir, "retention_raw")
            use_database(raw_url)  # the other copy: the same members, no expired rows yet
            build(args.rows)
            started = time.perf_counter()
            raw_removal()
            raw = time.perf_counter() - started
            after_raw = survivors()
        finally:
            drop()
            drop_raw()
    if after_engine != after_raw:
        raise SystemExit(f"Different end states: engine {after_engine}, raw {after_raw}")
    rate = lambda n, seconds: f"{n / seconds:12,.0f}".replace(",", " ")  # noqa: E731
    print(f"moteur : {rate(rows, engine)} lignes/s ({engine:.2f} s, {batches} lots)")
    print(f"SQL brut : {rate(rows, raw)} lignes/s ({raw:.2f} s)")
    print(f"ratio moteur/brut : {raw / engine:.2f}")
    report(
        Result.of(
            f"retention, {rows:,} expired rows among {args.members:,} members, {vendor}",
            rows / engine,
            rows / raw,
            "rows/s",
            ">= 0.5",
        )
    )


if __name__ == "__main__":
    main()
