"""Benchmark of ``manage.py import_members`` against a raw SQL insert of the same rows.

    .venv/bin/python bench/import_members.py --rows 100000
    .venv/bin/python bench/import_members.py --rows 100000 \\
        --database-url postgres://bench@127.0.0.1:5434/postgres

Generates N synthetic members (valid NIRs and IBANs, fixed seed; about a third with a spouse,
half with children, some children attached to the member's NIR) into a CSV file, then, in the
same run and on two fresh databases:

- **import**: ``manage.py import_members`` on the file (validation by the form's rules,
  encryption under a new data key per person, blind index, audit events, rejection report);
- **raw**: the same rows read from the same file and written to the same tables with DB-API
  ``executemany`` in batches of the same size, one transaction per batch: plaintext values, no
  validation, no encryption, no audit. Every row gets the same number of rows in every table.

It prints rows/s for both and the ratio import/raw (target: at least 1/3 at 100,000 rows).
SQLite files live in a temporary directory; with ``--database-url`` two scratch PostgreSQL
databases are created next to the one named in the URL and dropped at the end. Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import csv
import datetime
import io
import os
import random
import secrets
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Result, report  # noqa: E402


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the command's")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the import here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--scale", type=int, help="the suite's common option: --rows")
    args = parser.parse_args(argv)
    if args.scale:
        args.rows = args.scale
    return args


# --- Scratch databases --------------------------------------------------------------------
class Scratch:
    """Two empty databases, ``import`` and ``raw``: SQLite files or PostgreSQL databases."""

    def __init__(self, url: str | None, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.names: list[str] = []

    def create(self) -> dict[str, str]:
        if not self.url:
            return {
                alias: f"sqlite:///{self.workdir / f'{alias}.sqlite3'}"
                for alias in ("import", "raw")
            }
        import psycopg

        base = self.url.rsplit("/", 1)[0]
        urls = {}
        with psycopg.connect(self.url, autocommit=True) as conn:
            for alias in ("import", "raw"):
                name = f"mutualis_bench_{alias}_{os.getpid()}"
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
                self.names.append(name)
                urls[alias] = f"{base}/{name}"
        return urls

    def drop(self) -> None:
        if not self.names:
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def setup_django(urls: dict[str, str], workdir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mutualis.settings",
            "DATABASE_URL": urls["import"],
            "MUTUALIS_VAR_DIR": str(workdir / "var"),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "MUTUALIS_MASTER_KEY": _key(),
            "MUTUALIS_BLIND_INDEX_KEY": _key(),
            "MUTUALIS_AUDIT_KEY": _key(),
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DEBUG", None)  # DEBUG would record every query in memory
    import dj_database_url
    from django.conf import settings

    raw = dj_database_url.parse(urls["raw"])
    if raw["ENGINE"] == "django.db.backends.sqlite3":
        raw["OPTIONS"] = dict(settings.DATABASES["default"].get("OPTIONS", {}))
    settings.DATABASES["raw"] = raw

    import django

    django.setup()


# --- Synthetic members ----------------------------------------------------------------------
COLUMNS = [
    "legacy_reference",
    "civility",
    "last_name",
    "first_names",
    "birth_date",
    "email",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "phone_landline",
    "phone_mobile",
    "nir",
    "scheme_regime",
    "scheme_caisse",
    "scheme_centre",
    "scheme_organisation",
    "offer_code",
    "start_date",
    "cgu_version",
    "iban",
    "bic",
    "debtor_name",
    "signed_place",
] + [
    f"beneficiary{k}_{name}"
    for k in (1, 2, 3)
    for name in ("role", "civility", "last_name", "first_names", "birth_date", "nir", "attached")
]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]
WOMEN = ["Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Anne", "Claire"]
MEN = ["Lucas", "Hugo", "Louis", "Gabriel", "Jules", "Arthur", "Paul", "Nicolas", "Marc"]
CITIES = [("75011", "Paris", "75"), ("69003", "Lyon", "69"), ("13005", "Marseille", "13")]


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def generate(path: Path, rows: int, seed: int) -> None:
    from mutualis.members.testing import make_french_iban, make_nir

    rng = random.Random(seed)
    today = datetime.date.today()
    used: set[str] = set()

    def nir(civility: str, birth: datetime.date, department: str) -> str:
        while True:
            value = make_nir(civility=civility, birth_date=birth, department=department, rng=rng)
            if value not in used:
                used.add(value)
                return value

    def birth_between(first: int, last: int) -> datetime.date:
        return datetime.date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
        for i in range(rows):
            woman = rng.random() < 0.5
            civility = "MME" if woman else "M"
            last = rng.choice(LAST)
            first = rng.choice(WOMEN if woman else MEN)
            birth = birth_between(today.year - 75, today.year - 25)
            postal, city, department = rng.choice(CITIES)
            row = [
                f"LEG-{i:08d}",
                civility,
                last,
                first,
                birth.strftime("%d/%m/%Y") if i % 2 else birth.isoformat(),
                f"{_ascii(first)}.{_ascii(last)}.{i}@example.org",
                f"{rng.randint(1, 120)} rue de la République",
                "",
                postal,
                city,
                "",
                f"06{rng.randint(10**7, 10**8 - 1)}",
                nir(civility, birth, department),
                "01",
                f"{department}1",
                "0001",
                f"CPAM {city}",
                rng.choice(["essentielle", "confort", "serenite"]),
                datetime.date(rng.randint(2005, today.year - 1), rng.randint(1, 12), 1).isoformat(),
                "2018-03",
                make_french_iban(rng),
                "",
                f"{first} {last}",
                city,
            ]
            beneficiaries = []
            if rng.random() < 0.35:
                spouse_woman = not woman
                spouse_birth = birth_between(birth.year - 3, min(birth.year + 3, today.year - 19))
                spouse_civility = "MME" if spouse_woman else "M"
                beneficiaries.append(
                    [
                        "spouse",
                        spouse_civility,
                        last,
                        rng.choice(WOMEN if spouse_woman else MEN),
                        spouse_birth.isoformat(),
                        nir(spouse_civility, spouse_birth, department),
                        "non",
                    ]
                )
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 2)):
                    first_year = max(birth.year + 13, today.year - 27)
                    child_birth = birth_between(min(first_year, today.year - 1), today.year - 1)
                    girl = rng.random() < 0.5
                    child_civility = "MME" if girl else "M"
                    attached = rng.random() < 0.6
                    beneficiaries.append(
                        [
                            "child",
                            child_civility,
                            last,
                            rng.choice(WOMEN if girl else MEN),
                            child_birth.isoformat(),
                            "" if attached else nir(child_civility, child_birth, department),
                            "oui" if attached else "non",
                        ]
                    )
            for item in beneficiaries:
                row += item
            row += [""] * (len(COLUMNS) - len(row))
            writer.writerow(row)


# --- Raw baseline ---------------------------------------------------------------------------
def raw_insert(path: Path, batch_size: int) -> int:
    """The same rows into the same tables with executemany: plaintext, unchecked, unaudited."""
    from django.db import connections, transaction
    from django.utils import timezone

    from mutualis.contracts.models import Offer
    from mutualis.privacy.models import PolicyVersion

    connection = connections["raw"]
    connection.ensure_connection()
    db = connection.connection  # the DB-API connection itself
    vendor = connection.vendor
    mark = "?" if vendor == "sqlite" else "%s"
    offers = dict(Offer.objects.using("raw").values_list("code", "pk"))
    policy = PolicyVersion.objects.using("raw").values_list("pk", flat=True).first()

    def sql(table: str, columns: list[str]) -> str:
        marks = ", ".join([mark] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    statements = {
        "keys": sql("vault_datakey", ["id", "wrapped_key", "master_key_id", "created_at"]),
        "persons": sql(
            "members_person",
            [
                "id",
                "data_key_id",
                "civility",
                "last_name",
                "first_names",
                "birth_date",
                "address_line1",
                "address_line2",
                "postal_code",
                "city",
                "email",
                "phone_landline",
                "phone_mobile",
                "nir",
                "nir_index",
                "nir_holder_id",
                "scheme_regime",
                "scheme_caisse",
                "scheme_centre",
                "scheme_organisation",
                "created_at",
                "updated_at",
            ],
        ),
        "members": sql(
            "members_member", ["id", "person_id", "number", "joined_at", "legacy_reference"]
        ),
        "beneficiaries": sql(
            "members_beneficiary", ["id", "member_id", "person_id", "role", "added_at"]
        ),
        "contracts": sql(
            "contracts_contract",
            [
                "id",
                "number",
                "member_id",
                "offer_id",
                "start_date",
                "cgu_version",
                "policy_version_id",
                "accepted_at",
            ],
        ),
        "links": sql("contracts_contract_beneficiaries", ["contract_id", "beneficiary_id"]),
        "mandates": sql(
            "billing_mandate",
            [
                "id",
                "member_id",
                "data_key_id",
                "reference",
                "creditor_identifier",
                "debtor_name",
                "iban",
                "bic",
                "signed_at",
                "signed_place",
                # Columns without a database default (Django sets them), as the import writes.
                "one_off",
                "previous_reference",
                "amendment_pending",
            ],
        ),
    }

    def uid() -> str | uuid.UUID:
        value = uuid.uuid4()
        return value.hex if vendor == "sqlite" else value

    def date(text: str) -> datetime.date:
        if "/" in text:
            day, month, year = text.split("/")
            return datetime.date(int(year), int(month), int(day))
        return datetime.date.fromisoformat(text)

    now = timezone.now()
    if vendor == "sqlite":  # as Django stores it: naive UTC text
        now = now.replace(tzinfo=None).isoformat(" ")
    count = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        batch: dict[str, list[tuple]] = {name: [] for name in statements}

        def person(row: dict, prefix: str, key: str, holder) -> tuple:
            nir = row[prefix + "nir"] or None
            return (
                uid(), key, row[prefix + "civility"], row[prefix + "last_name"],
                row[prefix + "first_names"], date(row[prefix + "birth_date"]).isoformat().encode(),
                row.get(prefix + "address_line1", ""), row.get(prefix + "address_line2", ""),
                row.get(prefix + "postal_code", ""), row.get(prefix + "city", ""),
                row.get(prefix + "email", ""), row.get(prefix + "phone_landline", ""),
                row.get(prefix + "phone_mobile", ""), nir.encode() if nir else None, nir, holder,
                row.get(prefix + "scheme_regime", ""), row.get(prefix + "scheme_caisse", ""),
                row.get(prefix + "scheme_centre", ""), row.get(prefix + "scheme_organisation", ""),
                now, now,
            )  # fmt: skip

        def flush() -> None:
            with transaction.atomic(using="raw"):  # one transaction per batch, as the import
                cursor = db.cursor()
                for name, statement in statements.items():
                    if batch[name]:
                        cursor.executemany(statement, batch[name])
                    batch[name].clear()

        for row in reader:
            key = uid()
            batch["keys"].append((key, os.urandom(60), "bench", now))
            member_person = person(row, "", key, None)
            batch["persons"].append(member_person)
            member_id = uid()
            batch["members"].append(
                (member_id, member_person[0], f"A{count:09d}", now, row["legacy_reference"])
            )
            contract_id = uid()
            batch["contracts"].append(
                (
                    contract_id, f"C{count:09d}", member_id, offers[row["offer_code"]],
                    date(row["start_date"]), row["cgu_version"], policy, now,
                )
            )  # fmt: skip
            for k in (1, 2, 3):
                prefix = f"beneficiary{k}_"
                if not row[prefix + "role"]:
                    continue
                child_key = uid()
                batch["keys"].append((child_key, os.urandom(60), "bench", now))
                holder = member_person[0] if row[prefix + "attached"] == "oui" else None
                other = person(row, prefix, child_key, holder)
                batch["persons"].append(other)
                beneficiary_id = uid()
                batch["beneficiaries"].append(
                    (beneficiary_id, member_id, other[0], row[prefix + "role"], now)
                )
                batch["links"].append((contract_id, beneficiary_id))
            batch["mandates"].append(
                (
                    uid(), member_id, key, f"RUM-BENCH-{count:012d}", "FR72ZZZ123456",
                    row["debtor_name"], row["iban"].encode(), row["bic"], now, row["signed_place"],
                    False, "", False,
                )
            )  # fmt: skip
            count += 1
            if count % batch_size == 0:
                flush()
        flush()
    return count


# --- Run ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mutualis-bench-import-"))
    scratch = Scratch(args.database_url, workdir)
    try:
        setup_django(scratch.create(), workdir)
        from django.core.management import call_command
        from django.db import connections

        from mutualis.contracts.member_import.run import DEFAULT_BATCH_SIZE
        from mutualis.contracts.testing import ensure_offers
        from mutualis.members.models import Member, Person
        from mutualis.privacy.policy import publish

        batch_size = args.batch_size or DEFAULT_BATCH_SIZE
        for alias in ("default", "raw"):
            call_command("migrate", database=alias, verbosity=0)
        ensure_offers()
        publish()
        call_command("loaddata", *_fixtures(workdir), database="raw", verbosity=0)

        csv_path = workdir / "members.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows, args.seed)
        print(
            f"{args.rows} membres générés en {time.perf_counter() - started:.1f} s "
            f"({csv_path.stat().st_size / 1e6:.1f} Mo) ; base : {connections['default'].vendor};"
            f" lots de {batch_size}"
        )

        out = io.StringIO()
        command = ["import_members", str(csv_path), "--batch-size", str(batch_size)]
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        call_command(*command, stdout=out)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu
        imported = Member.objects.count()
        if imported != args.rows:
            print(out.getvalue())
            raise SystemExit(f"the import created {imported} members out of {args.rows}")

        started, cpu = time.perf_counter(), time.process_time()
        raw_rows = raw_insert(csv_path, batch_size)
        raw_seconds, raw_cpu = time.perf_counter() - started, time.process_time() - cpu
        persons = Person.objects.count(), Person.objects.using("raw").count()
        if raw_rows != args.rows or persons[0] != persons[1]:
            raise SystemExit(f"raw insert differs: {raw_rows} members, persons {persons}")

        import_rate, raw_rate = args.rows / import_seconds, args.rows / raw_seconds
        print(f"personnes (adhérents et bénéficiaires) : {persons[0]}")
        # CPU time of this process (the SQLite engine included, a PostgreSQL server not): a
        # hint when the machine is shared; the ratio itself is on elapsed time.
        for label, seconds, rate, cpu_seconds in (
            ("import", import_seconds, import_rate, import_cpu),
            ("brut  ", raw_seconds, raw_rate, raw_cpu),
        ):
            print(f"{label} : {seconds:8.2f} s  {rate:9.0f} lignes/s  (CPU {cpu_seconds:.2f} s)")
        print(f"ratio import/brut : {import_rate / raw_rate:.2f}")
        report(
            Result.of(
                f"member import, {args.rows:,} rows, {connections['default'].vendor}",
                import_rate,
                raw_rate,
                "rows/s",
                ">= 0.33",
            )
        )
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up yet
            pass
        scratch.drop()
        if args.keep:
            print(f"fichiers gardés dans {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def _fixtures(workdir: Path) -> list[str]:
    """Offers, rates and the policy version, copied to the raw database (same ids)."""
    from django.core.management import call_command

    path = workdir / "reference.json"
    with path.open("w") as handle:
        call_command(
            "dumpdata",
            "contracts.Offer",
            "contracts.PremiumRate",
            "privacy.PolicyVersion",
            stdout=handle,
        )
    return [str(path)]


if __name__ == "__main__":
    main()
