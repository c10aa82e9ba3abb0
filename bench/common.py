"""What every benchmark shares: a scratch database, Django set up on it, one line per measure.

A benchmark prints each measure as a line ``RESULT {json}`` (measure, ours, baseline, unit,
ratio, target, met) besides its own readable output; ``bench/run.py`` (``make bench``) collects
those lines from every benchmark into one table.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def scratch_database(url: str | None, workdir: Path, name: str) -> tuple[str, Callable[[], None]]:
    """A throw-away database: SQLite in ``workdir``, or a new PostgreSQL database beside ``url``.

    Returns its URL and a function that drops it.
    """
    if not url:
        return f"sqlite:///{workdir / (name + '.sqlite3')}", lambda: None
    import psycopg

    db = f"bench_{name}_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{db}", drop


def fresh_environment(database_url: str, workdir: Path) -> dict[str, str]:
    """The variables of a throw-away configuration: the database, new keys, quiet logs."""
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    return {
        "DJANGO_SETTINGS_MODULE": "mutualis.settings",
        "DATABASE_URL": database_url,
        "MUTUALIS_VAR_DIR": str(workdir),
        "MUTUALIS_MASTER_KEY": key(),
        "MUTUALIS_BLIND_INDEX_KEY": key(),
        "MUTUALIS_AUDIT_KEY": key(),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "LOG_LEVEL": "WARNING",
    }


def setup_django(
    database_url: str,
    workdir: Path,
    *,
    migrate: bool = True,
    environment: dict[str, str] | None = None,
) -> None:
    """Configure the process for ``database_url`` with throw-away keys (or the keys of
    ``environment``, those a database was built with), then ``migrate``."""
    os.environ.update(
        {
            **(environment or fresh_environment(database_url, workdir)),
            "DATABASE_URL": database_url,
            "MUTUALIS_VAR_DIR": str(workdir),
        }
    )
    os.environ.pop("DEBUG", None)  # DEBUG would keep every query in memory
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- Generated members, built once for the whole suite ------------------------------------------
# ``bench/run.py`` builds, for each database, one database of generated members at the suite's
# scale (``bench/base.py``) and names the folder describing it in this variable; a benchmark then
# works on a copy of it instead of generating the same members again.
BASE_VARIABLE = "BENCH_BASE_DIR"


def vendor_of(url: str | None) -> str:
    return "postgresql" if url and url.startswith("postgres") else "sqlite"


def generate_members(members: int, seed: int) -> dict[str, int]:
    """``manage.py generate_members``' builder, with the counts printed."""
    import time

    from mutualis.generate import generate

    began = time.monotonic()
    counts = generate(members, seed=seed)
    print(
        f"{members:,} adhérents générés en {time.monotonic() - began:.0f} s : ".replace(",", " ")
        + ", ".join(f"{table} {n:,}".replace(",", " ") for table, n in sorted(counts.items())),
        flush=True,
    )
    return counts


def generated_database(
    url: str | None, workdir: Path, name: str, *, members: int, seed: int
) -> tuple[str, Callable[[], None]]:
    """A scratch database holding ``members`` generated members, Django set up on it.

    A copy of the suite's database when ``bench/run.py`` built one for this database, size and
    seed; otherwise the members are generated here. Returns its URL and a function that drops it.
    """
    base = suite_base(url, members=members, seed=seed)
    if base is not None:
        copy_url, drop = copy_database(base, workdir, name)
        setup_django(copy_url, workdir, migrate=False, environment=base["environment"])
        print(f"Base commune copiée ({members:,} adhérents).".replace(",", " "), flush=True)
        return copy_url, drop
    db_url, drop = scratch_database(url, workdir, name)
    setup_django(db_url, workdir)
    generate_members(members, seed)
    return db_url, drop


def suite_base(url: str | None, *, members: int, seed: int) -> dict | None:
    directory = os.environ.get(BASE_VARIABLE)
    if not directory:
        return None
    described = Path(directory) / f"{vendor_of(url)}.json"
    if not described.exists():
        return None
    base = json.loads(described.read_text())
    if (base["members"], base["seed"]) != (members, seed):
        return None
    return base


def copy_database(base: dict, workdir: Path, name: str) -> tuple[str, Callable[[], None]]:
    """A copy of a database no session uses (PostgreSQL: ``CREATE DATABASE … TEMPLATE``)."""
    source = base["url"]
    if vendor_of(source) == "sqlite":
        target = workdir / f"{name}.sqlite3"
        shutil.copyfile(source[len("sqlite:///") :], target)
        return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)
    import psycopg

    db = f"bench_{name}_{secrets.token_hex(4)}"
    with psycopg.connect(base["admin_url"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{source.rsplit("/", 1)[1]}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(base["admin_url"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    return source.rsplit("/", 1)[0] + f"/{db}", drop


def close_for_copy() -> None:
    """Close this process's connections (a database being copied must have none); SQLite's
    write-ahead log is folded into the file first."""
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connections.close_all()


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Result:
    measure: str
    ours: float
    baseline: float
    unit: str
    target: str  # e.g. ">= 0.7" (ratio ours / baseline) or "<= 2"; "" when the issue sets none
    ratio: float = 0.0
    met: bool | None = False  # None: a measure reported without a target

    @classmethod
    def of(cls, measure: str, ours: float, baseline: float, unit: str, target: str) -> Result:
        ratio = ours / baseline if baseline else 0.0
        if not target:
            return cls(measure, ours, baseline, unit, "", round(ratio, 3), None)
        op, bound = target.split()
        met = ratio >= float(bound) if op == ">=" else ratio <= float(bound)
        return cls(measure, ours, baseline, unit, target, round(ratio, 3), met)


def report(result: Result) -> Result:
    """Print the result readably and as the ``RESULT`` line ``bench/run.py`` collects."""
    if result.met is None:
        flag = "no target"
    else:
        flag = f"target {result.target}: {'met' if result.met else 'NOT met'}"
    print(
        f"{result.measure}: ours {result.ours:,.2f} {result.unit}, baseline "
        f"{result.baseline:,.2f} {result.unit}, ratio {result.ratio:.2f} ({flag})"
    )
    print("RESULT " + json.dumps(asdict(result), ensure_ascii=False), flush=True)
    return result
