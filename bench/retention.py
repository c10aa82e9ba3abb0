"""Benchmark of ``manage.py enforce_retention`` against raw SQL on an identical data set.

    .venv/bin/python bench/retention.py --rows 1000000
    .venv/bin/python bench/retention.py --rows 1000000 \\
        --database-url postgres://bench@127.0.0.1:5434/postgres

Builds N expired rows across the declared models of the ``contact`` app — old inquiries (three
years after the last contact) with their messages, and attachments of e-mails received more
than three months ago — plus the e-mails themselves (anonymised, not deleted) and some recent
rows that must stay. Then, in the same run:

- **engine**: ``enforce_retention --only contact`` with the command's defaults (batches of
  5,000 rows to start with, adapted to take about a second each on PostgreSQL, three on
  SQLite; one transaction and one audit event per batch; the run's own audit event and
  report);
- **raw**: the data set is built again, identically, and removed by hand-written SQL (three
  DELETEs and one UPDATE in one transaction: no batches, no audit).

It prints rows/s for both and the ratio engine/raw (target: at least 1/2 at 1,000,000 rows) and
checks that both leave the same rows. SQLite lives in a temporary directory; with
``--database-url`` a scratch PostgreSQL database is created beside the one named and dropped at
the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Result, report  # noqa: E402

OLD_CONTACT = datetime.datetime(2022, 1, 10, 9, 0, tzinfo=datetime.UTC)
OLD_EMAIL = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
RECENT = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)
AS_OF = "2026-11-26"
ATTACHMENTS_PER_EMAIL = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="expired rows to remove")
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="first batch (command default)"
    )
    parser.add_argument(
        "--batch-seconds", type=float, help="target per batch (0: fixed size; command default)"
    )
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--scale", type=int, help="the suite's common option: --rows")
    args = parser.parse_args(argv)
    if args.scale:
        args.rows = args.scale
    return args


def scratch_database(url: str | None, workdir: Path) -> tuple[str, callable]:
    if not url:
        return f"sqlite:///{workdir / 'retention.sqlite3'}", lambda: None
    import psycopg

    name = f"bench_retention_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def setup_django(database_url: str, workdir: Path) -> None:
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mutualis.settings",
            "DATABASE_URL": database_url,
            "MUTUALIS_VAR_DIR": str(workdir),
            "MUTUALIS_MASTER_KEY": key(),
            "MUTUALIS_BLIND_INDEX_KEY": key(),
            "MUTUALIS_AUDIT_KEY": key(),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


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


def wipe() -> None:
    """Empty the tables so the raw run starts from fresh storage, as the engine run did."""
    from django.db import connection, transaction

    tables = ("contact_attachment", "contact_message", "contact_complaint", "contact_inquiry")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


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
        url, drop = scratch_database(args.database_url, workdir)
        try:
            setup_django(url, workdir)
            from django.core.management import call_command
            from django.db import connection

            vendor = connection.vendor
            print(f"Base : {vendor}, {args.rows:,} lignes expirées".replace(",", " "))
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

            wipe()
            build(args.rows)
            started = time.perf_counter()
            raw_removal()
            raw = time.perf_counter() - started
            after_raw = survivors()
        finally:
            drop()
    if after_engine != after_raw:
        raise SystemExit(f"Different end states: engine {after_engine}, raw {after_raw}")
    rate = lambda n, seconds: f"{n / seconds:12,.0f}".replace(",", " ")  # noqa: E731
    print(f"moteur : {rate(rows, engine)} lignes/s ({engine:.2f} s, {batches} lots)")
    print(f"SQL brut : {rate(rows, raw)} lignes/s ({raw:.2f} s)")
    print(f"ratio moteur/brut : {raw / engine:.2f}")
    report(
        Result.of(
            f"retention, {rows:,} rows, {vendor}", rows / engine, rows / raw, "rows/s", ">= 0.5"
        )
    )


if __name__ == "__main__":
    main()
