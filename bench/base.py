"""The suite's database of generated members, built once per database (``bench/run.py``).

    .venv/bin/python bench/base.py --members 20000 --out DIR [--database-url postgres://…]

Builds a database of ``--members`` members with ``manage.py generate_members``' builder
(SQLite: a file in ``DIR``; PostgreSQL: a database created beside the one named), and describes
it in ``DIR/<database>.json``: its URL, the keys it was encrypted with, its size and seed. The
benchmarks that need members (``common.generated_database``) then each work on a copy of it
instead of generating the same members again. ``bench/run.py`` drops it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    close_for_copy,
    fresh_environment,
    generate_members,
    scratch_database,
    setup_django,
    vendor_of,
)

SEED = 20261120  # the benchmarks' default seed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="folder of the description")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in --out)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    url, _drop = scratch_database(args.database_url, args.out, "base")
    environment = fresh_environment(url, args.out)
    setup_django(url, args.out, environment=environment)
    generate_members(args.members, args.seed)
    close_for_copy()
    described = args.out / f"{vendor_of(args.database_url)}.json"
    described.write_text(
        json.dumps(
            {
                "url": url,
                "admin_url": args.database_url,
                "environment": environment,
                "members": args.members,
                "seed": args.seed,
            }
        )
    )
    os.chmod(described, 0o600)  # throw-away keys, still keys


if __name__ == "__main__":
    main()
