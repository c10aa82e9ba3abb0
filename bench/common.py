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


def setup_django(database_url: str, workdir: Path, *, migrate: bool = True) -> None:
    """Configure the process for ``database_url`` with throw-away keys, then ``migrate``."""
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
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


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
