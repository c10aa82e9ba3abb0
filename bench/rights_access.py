"""Benchmark of the access export (GDPR art. 15) against raw SQL reads of the same rows.

    .venv/bin/python bench/rights_access.py --members 100000
    .venv/bin/python bench/rights_access.py --members 100000 \\
        --database-url postgres://postgres@127.0.0.1:5436/postgres

Builds a database of N members with ``manage.py generate_members``' builder (``mutualis.generate``:
written in bulk, ``executemany`` on SQLite, ``COPY`` on PostgreSQL; values encrypted under each
person's own data key exactly as the models do, blind index included):

- a person with a data key, a member, a login account for most, 0 to 3 beneficiaries (persons
  with their own keys, some children attached to the member's NIR), a contract covering them
  (an earlier, ended one for some), a SEPA mandate;
- correspondence: inquiries over three years, 1 to 4 messages each (staff answers), a few
  attachments, some inquiries qualified as complaints;
- consent choices and the current preferences (``consent`` app);
- audit events: creation, log-ins, correspondence (about 30 per member), a few disclosures to
  mandatory schemes, a few rights requests;
- premiums: ``--premium-months`` (36) months of each contract in force, with their ledger (the
  premium due and the debit that paid it), added by two set-based statements after the members
  (``add_premiums``: 108 rows per member at 36 months).

Then, for ``--sample`` random members, in the same run and on the same warm database:

- **export**: ``render_access_json(build_access_export(person))``, decrypted, in JSON;
- **raw**: hand-built SQL, one SELECT per table by the same keys (the person and their
  beneficiaries, joined along the same subject paths, plus the contract-beneficiary links, the
  audit events, their actors and the disclosures), every column read, no decryption, no JSON.

Each member's raw read and export run once untimed first, so both timings read warm pages (the
key cache is then emptied: each timed export unwraps its keys, as in production). It prints the
median and 95th percentile of both, and the ratio of the medians (target at 100,000 members:
under 3, and the export well under 0.1 s). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Result, generated_database, report, suite_base  # noqa: E402

NOW = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--scale", type=int, help="the suite's common option: --members")
    parser.add_argument("--sample", type=int, default=200, help="members exported")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a database kept by --keep")
    parser.add_argument("--profile", action="store_true", help="print a profile of the exports")
    parser.add_argument(
        "--premium-months", type=int, default=36, help="months of premiums and ledger per member"
    )
    args = parser.parse_args(argv)
    if args.scale:
        args.members = args.scale
    return args


# --- Scratch database and Django --------------------------------------------------------------
def scratch_database(url: str | None, workdir: Path):
    if not url:
        return f"sqlite:///{workdir / 'rights.sqlite3'}", lambda: None
    import psycopg

    name = f"bench_rights_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def setup_django(database_url: str, workdir: Path, *, reuse: bool = False) -> None:
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    saved = workdir / "environment.json"
    environment = {
        "DJANGO_SETTINGS_MODULE": "mutualis.settings",
        "DATABASE_URL": database_url,
        "MUTUALIS_VAR_DIR": str(workdir),
        "MUTUALIS_MASTER_KEY": key(),
        "MUTUALIS_BLIND_INDEX_KEY": key(),
        "MUTUALIS_AUDIT_KEY": key(),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "LOG_LEVEL": "WARNING",
    }
    if reuse:
        environment = json.loads(saved.read_text())
    else:
        saved.write_text(json.dumps(environment))  # throw-away keys of a scratch database
    os.environ.update(environment)
    os.environ.pop("DEBUG", None)  # DEBUG would keep every query in memory
    import django

    django.setup()
    if not reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- The data set -----------------------------------------------------------------------------
def build(members: int, seed: int) -> dict[str, int]:
    """``manage.py generate_members``' builder: the same data set as every benchmark."""
    from mutualis.generate import generate

    return generate(members, seed=seed)


def add_premiums(months: int) -> tuple[int, int]:
    """``months`` monthly instalments of every contract in force, each with its premium and
    its debit in the member's ledger, by set-based statements; returns the rows added.

    Rows are written month after month, as the billing cycle writes them (the heap holds a
    month's rows together, a member's rows spread over the months), members in key order
    within a month, one transaction per month (one for the whole would grow SQLite's
    write-ahead log to the size of the tables, every page lookup slower as it grows). The ids
    are sequential rather than random: the indexes on them (and on the ledger's idempotency key,
    built from them) then fill in order instead of at random places, which makes the build of
    tens of millions of rows at 1,000,000 members several times quicker; the export and the raw
    read find these rows by member, not by id.
    """
    import datetime

    from django.db import connection, transaction

    today = datetime.date.today().replace(day=1)
    firsts = []
    day = today
    for _ in range(months):
        firsts.append(day)
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    firsts.reverse()  # oldest first, as they were billed
    postgresql = connection.vendor == "postgresql"
    text = "CAST(i.id AS TEXT)"
    # SQLite keeps dates as ISO text (a CAST to DATE would make them numbers), UUIDs as hex.
    date = (lambda d: f"CAST('{d}' AS DATE)") if postgresql else (lambda d: f"'{d}'")

    def sequential_id(number: str, kind: int) -> str:
        if postgresql:
            return f"CAST(lpad(to_hex({kind}::bigint << 56 | {number}), 32, '0') AS UUID)"
        return f"printf('%032x', ({kind} << 56) | {number})"

    now = "CURRENT_TIMESTAMP"
    instalments = 0
    # Every row refers to rows the same statement read, so the foreign keys' checks (tens of
    # millions of lookups at commit, at 1,000,000 members) are left out where the session may:
    # a superuser's replica role on PostgreSQL, the pragma (outside any transaction) on SQLite.
    with connection.cursor() as cursor:
        if not postgresql:
            cursor.execute("PRAGMA foreign_keys = OFF")
        superuser = False
        if postgresql:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = cursor.fetchone()[0]
    for month in firsts:
        due, year_end = month.replace(day=5), datetime.date(month.year, 12, 31)
        with transaction.atomic(), connection.cursor() as cursor:
            if superuser:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                f"""INSERT INTO billing_instalment (id, contract_id, member_id, month, due_date,
                    amount, computed_at, debit_id, year_end, archived_at)
                SELECT {sequential_id(f"{instalments} + ROW_NUMBER() OVER (ORDER BY c.member_id, c.id)", 1)},
                    c.id, c.member_id, {date(month.isoformat())}, {date(due.isoformat())}, 84.30,
                    {now}, NULL, {date(year_end.isoformat())}, NULL
                FROM contracts_contract c
                WHERE c.end_date IS NULL AND c.start_date <= {date(due.isoformat())}
                ORDER BY c.member_id, c.id"""  # noqa: E501
            )
            added = cursor.rowcount
            # This month's instalments: the range of their sequential ids.
            first, last = (sequential_id(str(n), 1) for n in (instalments + 1, instalments + added))
            for kind, sign, label, key in (
                ("premium", "", "'Cotisation'", "'premium:'"),
                ("debit", "-", "'Prélèvement'", "'debit:'"),
            ):
                cursor.execute(
                    f"""INSERT INTO billing_ledgerentry (id, member_id, contract_id, instalment_id,
                        debit_id, kind, amount, booked_on, label, reference, idempotency_key,
                        created_at, created_by, year_end, archived_at)
                    SELECT {sequential_id(f"{instalments} + ROW_NUMBER() OVER (ORDER BY i.id)", 2 if sign else 3)},
                        i.member_id, i.contract_id, i.id, NULL, '{kind}', {sign}i.amount,
                        i.due_date, {label}, '', {key} || {text}, {now}, '', i.year_end, NULL
                    FROM billing_instalment i
                    WHERE i.id BETWEEN {first} AND {last}
                    ORDER BY i.id"""  # noqa: E501
                )
            instalments += added
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute("ANALYZE billing_instalment")
            cursor.execute("ANALYZE billing_ledgerentry")
        else:
            cursor.execute("PRAGMA foreign_keys = ON")
    return instalments, 2 * instalments


# --- The raw baseline --------------------------------------------------------------------------
def _quote(name: str) -> str:
    return f'"{name}"'


def raw_statements() -> dict:
    """One SELECT per declared table, joined along its subject path, every column read."""
    from django.db import connection, models

    from mutualis.rights.export import plans

    statements = {}
    for plan in plans():
        model = plan.model
        table = model._meta.db_table
        columns = []
        for field in model._meta.local_concrete_fields:
            column = f"t0.{_quote(field.column)}"
            if isinstance(field, models.BinaryField) and not getattr(field, "is_encrypted", False):
                column = f"length({column})"  # the export reads sizes, not file bytes
            columns.append(column)
        joins, alias, current = [], "t0", model
        parts = [] if plan.path in ("pk", "subject_id") else plan.path.split("__")
        for n, part in enumerate(parts[:-1], start=1):
            field = current._meta.get_field(part)
            target = field.related_model
            if field.concrete:  # forward foreign key
                on = f"{alias}.{_quote(field.column)} = t{n}.{_quote(target._meta.pk.column)}"
            else:  # reverse one-to-one
                on = (
                    f"t{n}.{_quote(field.field.column)} = {alias}.{_quote(current._meta.pk.column)}"
                )
            joins.append(f"JOIN {_quote(target._meta.db_table)} t{n} ON {on}")
            alias, current = f"t{n}", target
        if plan.path == "pk":
            where = f"t0.{_quote(model._meta.pk.column)}"
        elif plan.path == "subject_id":
            where = "t0.subject_id"
        else:
            where = f"{alias}.{_quote(current._meta.get_field(parts[-1]).column)}"
        statements[model._meta.label_lower] = (
            f"SELECT {', '.join(columns)} FROM {_quote(table)} t0 {' '.join(joins)} "
            f"WHERE {where} IN ",
            plan.beneficiaries,
            plan.path == "subject_id",
        )
    statements["_sqlite"] = connection.vendor == "sqlite"
    return statements


def raw_read(statements: dict, person_id: uuid.UUID) -> int:
    """The same rows as the export, read with plain SQL (DB-API cursor, fetchall)."""
    from django.db import connection

    sqlite = statements["_sqlite"]
    mark = "?" if sqlite else "%s"
    key = person_id.hex if sqlite else person_id
    cursor = connection.connection.cursor()
    rows = 0

    def select(sql: str, params: list, *, in_list: bool = False) -> list:
        nonlocal rows
        if in_list:
            sql += "(" + ", ".join([mark] * len(params)) + ")"
        cursor.execute(sql, params)
        found = cursor.fetchall()
        rows += len(found)
        return found

    beneficiaries = select(
        "SELECT b.person_id FROM members_beneficiary b JOIN members_member m "
        f"ON b.member_id = m.id WHERE m.person_id = {mark}",
        [key],
    )
    holders = [key] + [row[0] for row in beneficiaries]
    contracts = []
    for label, statement in statements.items():
        if label.startswith("_"):
            continue
        sql, with_beneficiaries, by_text = statement
        params = [str(person_id)] if by_text else (holders if with_beneficiaries else [key])
        found = select(sql, params, in_list=True)
        if label == "contracts.contract":
            contracts = [row[0] for row in found]
    if contracts:
        select(
            "SELECT * FROM contracts_contract_beneficiaries WHERE contract_id IN ",
            contracts,
            in_list=True,
        )
    events = select(
        f"SELECT t.actor, t.* FROM audit_event t WHERE t.subject_id = {mark}", [str(person_id)]
    )
    actors = sorted({int(e[0].split(":")[1]) for e in events if e[0].startswith("user:")})
    if actors:
        select("SELECT * FROM members_user WHERE id IN ", actors, in_list=True)
    select(f"SELECT * FROM audit_disclosure WHERE subject_id = {mark}", [str(person_id)])
    return rows


# --- Run ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="mutualis-bench-rights-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keep = bool(args.keep or args.reuse)
    shared = not keep and suite_base(args.database_url, members=args.members, seed=args.seed)
    if args.reuse:
        url, drop = json.loads((workdir / "environment.json").read_text())["DATABASE_URL"], None
    elif shared:  # a copy of the suite's generated members (bench/run.py)
        url, drop = generated_database(
            args.database_url, workdir, "rights", members=args.members, seed=args.seed
        )
    else:
        url, drop = scratch_database(args.database_url, workdir)
    try:
        if not shared:
            setup_django(url, workdir, reuse=bool(args.reuse))
        from django.db import connection

        from mutualis.members.models import Member
        from mutualis.rights.export import build_access_export, render_access_json
        from mutualis.vault import services as vault

        if not args.reuse and not shared:
            started = time.perf_counter()
            counts = build(args.members, args.seed)
            print(
                f"base : {connection.vendor}, {args.members} adhérents construits en "
                f"{time.perf_counter() - started:.0f} s"
            )
            for table, count in sorted(counts.items()):
                print(f"  {table:36} {count:>10}")

        if not args.reuse and args.premium_months:
            started = time.perf_counter()
            instalments, entries = add_premiums(args.premium_months)
            print(
                f"cotisations : {instalments} échéances et {entries} écritures ajoutées en "
                f"{time.perf_counter() - started:.0f} s ({args.premium_months} mois)",
                flush=True,
            )

        rng = random.Random(args.seed + 1)
        every = sorted(Member.objects.values_list("number", flat=True))
        total = len(every)
        numbers = rng.sample(every, min(args.sample, len(every)))
        members = Member.objects.select_related("person").in_bulk(numbers, field_name="number")
        persons = [members[number].person for number in numbers]
        statements = raw_statements()
        vault.clear_key_cache()  # each export unwraps its person's key, as in production
        for person in persons[:10]:  # warm the process (compiled queries), not the rows
            raw_read(statements, person.pk)
            render_access_json(build_access_export(person))
        vault.clear_key_cache()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for person in persons:
                render_access_json(build_access_export(person))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            vault.clear_key_cache()
        export_times, raw_times, sizes, build_times, export_cpu, raw_cpu = [], [], [], [], [], []
        for person in persons:
            raw_read(statements, person.pk)  # warm pages for both: the rows both read,
            build_access_export(person)  # and those only the export reads (data keys, names)
            vault.clear_key_cache()
            c0, t0 = time.process_time(), time.perf_counter()
            export = build_access_export(person)
            tb = time.perf_counter()
            body = render_access_json(export)
            c1, t1 = time.process_time(), time.perf_counter()
            raw_read(statements, person.pk)
            c2, t2 = time.process_time(), time.perf_counter()
            build_times.append(tb - t0)
            export_times.append(t1 - t0)
            raw_times.append(t2 - t1)
            export_cpu.append(c1 - c0)
            raw_cpu.append(c2 - c1)
            sizes.append(len(body))

        def ms(values: list[float], q: float) -> float:
            return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if q < 100 else 0

        export_median = statistics.median(export_times)
        raw_median = statistics.median(raw_times)
        print(f"{len(persons)} exports ; JSON médian {statistics.median(sizes) / 1000:.0f} ko")
        print(
            f"export : médiane {export_median * 1000:7.2f} ms   p95 {ms(export_times, 95):7.2f} ms"
        )
        print(
            "  dont lecture et déchiffrement : médiane "
            f"{statistics.median(build_times) * 1000:.2f} ms"
        )
        print(f"brut   : médiane {raw_median * 1000:7.2f} ms   p95 {ms(raw_times, 95):7.2f} ms")
        print(f"ratio export/brut (médianes) : {export_median / raw_median:.2f}")
        report(
            Result.of(
                f"access export, {total:,} members, {connection.vendor}",
                export_median * 1000,
                raw_median * 1000,
                "ms",
                "<= 2",
            )
        )
        # CPU time of this process (SQLite's included, a PostgreSQL server's not): on a shared
        # machine, less noisy than elapsed time.
        cpu_export, cpu_raw = statistics.median(export_cpu), statistics.median(raw_cpu)
        print(
            f"temps CPU médian : export {cpu_export * 1000:.2f} ms, brut {cpu_raw * 1000:.2f} ms"
            f" (ratio {cpu_export / cpu_raw:.2f})"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"base gardée : {workdir} (--reuse {workdir})")
        else:
            drop()
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
