"""The back office's member search, explained by the database on N generated members.

    .venv/bin/python bench/search_explain.py [--members 1000] [--database-url postgres://…]

Builds a database of ``--members`` members with ``manage.py generate_members``' builder (or
copies the suite's, ``bench/run.py``), takes a member at random and runs, as a staff member of the
gestion service, the searches the back office runs:

- **by name**: ``members_matching("<last name> <first names>")`` (words of the name contained in
  a member's or a beneficiary's name: trigram indexes on PostgreSQL);
- **by member number**: ``members_matching("A…")`` (the unique index);
- **by NIR**: ``find_members_by_nir`` — ``Person.objects.with_nir`` (the blind index), then the
  query of the members concerned that follows it in ``mutualis/backoffice/services.py``.

Every ``SELECT`` each search sends is captured as sent, then explained (``EXPLAIN`` on
PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite) with the planner's own choices, and the plans are
printed. One ``RESULT`` line per search: met when no plan reads a member table whole (no
``Seq Scan`` on PostgreSQL, no ``SCAN`` on SQLite, of ``members_person``, ``members_member`` or
``members_beneficiary``). On a small database the planner may rightly prefer reading a table
whole: the measure means something at the suite's scale. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, generated_database, report

BIG_TABLES = ("members_person", "members_member", "members_beneficiary")
# The aliases Django gives a table in a statement ("members_person" U0, … T3).
_ALIASED = re.compile(rf'"({"|".join(BIG_TABLES)})"\s+([A-Z]\d+)\b')


def whole_reads(vendor: str, sql: str, plan: list[str]) -> int:
    """Lines of the plan that read a member table whole: a sequential scan (PostgreSQL names
    the table), or a SCAN of the table or of one of its aliases (SQLite names the alias)."""
    if vendor == "postgresql":
        pattern = re.compile(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b")
    else:
        names = set(BIG_TABLES) | {alias for _, alias in _ALIASED.findall(sql)}
        pattern = re.compile(rf"^SCAN ({'|'.join(sorted(names))})\b")
    return sum(bool(pattern.search(line.strip())) for line in plan)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=int, help="the suite's common option: --members")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    args = parser.parse_args(argv)
    if args.scale:
        args.members = args.scale
    return args


def captured_selects(run) -> list[str]:
    """The SELECTs on the member tables that ``run()`` sends, as sent (values included)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "(SELECT"))
        and any(table in q["sql"] for table in BIG_TABLES)
    ]


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[-1] for row in cursor.fetchall()]


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        _url, drop = generated_database(
            args.database_url, workdir, "search", members=args.members, seed=args.seed
        )
        try:
            from django.db import connection

            from mutualis.backoffice.members.search import members_matching
            from mutualis.backoffice.services import find_members_by_nir
            from mutualis.members.models import Member, User, UserKind

            vendor = connection.vendor
            label = "PostgreSQL" if vendor == "postgresql" else "SQLite"
            staff = User.objects.filter(kind=UserKind.STAFF, role="gestion").first()
            numbers = list(Member.objects.values_list("number", flat=True).order_by("number"))
            number = random.Random(args.seed).choice(numbers)
            member = Member.objects.select_related("person", "person__data_key").get(number=number)
            person = member.person
            searches = {
                "by name": lambda: list(
                    members_matching(f"{person.last_name} {person.first_names}", user=staff)[:51]
                ),
                "by member number": lambda: list(members_matching(member.number, user=staff)),
                "by NIR (blind index, then the members concerned)": lambda: find_members_by_nir(
                    nir=person.nir, actor=staff
                ),
            }
            for name, run in searches.items():
                statements = captured_selects(run)
                scans = 0
                print(f"\n-- Recherche {name} : {len(statements)} requête(s) sur les adhérents")
                for sql in statements:
                    plan = explain(sql)
                    print("\n".join("   " + line for line in plan))
                    scans += whole_reads(vendor, sql, plan)
                # No SQLite index serves "a word contained in a name" (LIKE '%…%'): that search
                # reads the tables whole there by nature; the rule is PostgreSQL's (trigrams).
                unindexable = vendor == "sqlite" and name == "by name"
                results.append(
                    report(
                        Result(
                            f"member search {name}, {args.members:,} members, {label}: "
                            "member tables read whole",
                            float(scans),
                            float(len(statements)),
                            "scans / statements",
                            "" if unindexable else "no scan",
                            round(scans / len(statements), 3) if statements else 0.0,
                            None if unindexable else bool(statements) and scans == 0,
                        )
                    )
                )
        finally:
            drop()
    return results


if __name__ == "__main__":
    main()
