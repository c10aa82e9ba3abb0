"""Every benchmark, one after the other, and one table of their results (``make bench``).

    .venv/bin/python bench/run.py [--scale 20000] [--only NAME,…] [--markdown FILE]
    make bench                        # the default scale, under half an hour on two cores
    make bench BENCH_SCALE=1000000    # the full size

Each benchmark runs in a process of its own, on SQLite and on PostgreSQL where it applies, and
prints ``RESULT {json}`` lines (``bench/common.py``); this collects them into one table: measure,
ours, baseline, ratio, target, met. PostgreSQL: ``BENCH_DATABASE_URL`` names a server where
scratch databases may be created; without it, a throw-away cluster is started here (the
PostgreSQL 15 server binaries are needed), with the server's defaults (fsync on).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    databases: tuple[str, ...]  # "sqlite", "postgresql"

    def arguments(self, scale: int) -> list[str]:
        return ARGUMENTS[self.name](scale)


# How each benchmark's size follows the suite's scale (members): at 1,000,000 each one runs at
# the size its issue names.
ARGUMENTS = {
    "audit_append": lambda scale: ["--seconds", "6"],
    "audit_verify": lambda scale: ["--events", str(10 * scale)],
    # Premiums: 36 months of each contract (108 ledger and schedule rows per member) up to
    # 100,000 members; 12 months above, where 36 would add a hundred million rows.
    "rights_access": lambda scale: [
        "--members",
        str(scale),
        "--sample",
        "200",
        "--premium-months",
        "36" if scale <= 100_000 else "12",
    ],
    # Retention: as many expired rows as members, in the tables of the generated members.
    "retention": lambda scale: ["--members", str(scale), "--rows", str(scale)],
    "import_members": lambda scale: ["--rows", str(max(1000, scale // 10))],
    "partners_api": lambda scale: ["--members", str(scale)],
    "member_space": lambda scale: ["--members", str(scale)],
    "search_explain": lambda scale: ["--members", str(scale)],
    # Sends and page views are per run, not per member: a tenth of the members, at least 1,000.
    "campaign_send": lambda scale: ["--recipients", str(max(1000, scale // 10))],
    "statistics_ingest": lambda scale: ["--requests", str(max(1000, scale // 10))],
    # One debit per generated member's mandate.
    "sepa_batch": lambda scale: ["--debits", str(scale)],
}
SUITE = (
    Benchmark("audit_append", "audit_append.py", ("postgresql", "sqlite")),
    Benchmark("audit_verify", "audit_verify.py", ("postgresql", "sqlite")),
    Benchmark("rights_access", "rights_access.py", ("postgresql", "sqlite")),
    Benchmark("retention", "retention.py", ("postgresql", "sqlite")),
    Benchmark("import_members", "import_members.py", ("postgresql", "sqlite")),
    Benchmark("partners_api", "partners_api.py", ("postgresql",)),
    Benchmark("member_space", "member_space.py", ("postgresql", "sqlite")),
    Benchmark("search_explain", "search_explain.py", ("postgresql", "sqlite")),
    Benchmark("campaign_send", "campaign_send.py", ("postgresql", "sqlite")),
    Benchmark("statistics_ingest", "statistics_ingest.py", ("postgresql", "sqlite")),
    Benchmark("sepa_batch", "sepa_batch.py", ("postgresql", "sqlite")),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20_000, help="members (the suite's size)")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="same as --databases sqlite")
    parser.add_argument("--markdown", type=Path, help="also write the table (and machine) here")
    parser.add_argument(
        "--base",
        type=Path,
        help="a folder where bench/base.py has already built the generated members (at this "
        "scale, on BENCH_DATABASE_URL's server for PostgreSQL): used, and left in place",
    )
    args = parser.parse_args(argv)
    if args.scale < 100:
        parser.error("--scale must be at least 100")
    known = {b.name for b in SUITE}
    if args.only and not set(args.only.split(",")) <= known:
        parser.error(f"unknown benchmark in --only; known: {', '.join(sorted(known))}")
    args.databases = {"sqlite"} if args.sqlite_only else set(args.databases.split(","))
    if not args.databases or not args.databases <= {"sqlite", "postgresql"}:
        parser.error("--databases: sqlite, postgresql or both")
    return args


@contextlib.contextmanager
def postgresql() -> Iterator[str]:
    """A server URL: ``BENCH_DATABASE_URL``, or a throw-away cluster started for the run."""
    if os.environ.get("BENCH_DATABASE_URL"):
        yield os.environ["BENCH_DATABASE_URL"]
        return
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"no PostgreSQL server binaries in {PG_BIN}: set BENCH_DATABASE_URL")
    root = Path(tempfile.mkdtemp(prefix="mutualis-bench-pg-"))
    as_postgres = os.geteuid() == 0  # initdb refuses to run as root
    run = ["runuser", "-u", "postgres", "--"] if as_postgres else []
    if as_postgres:
        shutil.chown(root, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = root / "data"
    subprocess.run(  # noqa: S603 - the server's own binaries, fixed arguments
        [*run, PG_BIN / "initdb", "-D", data, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
    subprocess.run(  # noqa: S603
        [*run, PG_BIN / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        user = "postgres" if as_postgres else os.environ.get("USER", "postgres")
        yield f"postgres://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(  # noqa: S603
            [*run, PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


# The benchmarks that work on generated members: they copy the suite's base (bench/base.py),
# built once per database at the suite's scale, instead of each generating the same members.
GENERATED = {
    "rights_access",
    "retention",
    "partners_api",
    "member_space",
    "search_explain",
    "sepa_batch",
}


@contextlib.contextmanager
def bases(
    chosen: list[Benchmark],
    databases: set[str],
    scale: int,
    url: str | None,
    given: Path | None = None,
):
    """The suite's databases of generated members; yields the folder that describes them."""
    needed = {
        database
        for b in chosen
        if b.name in GENERATED
        for database in b.databases
        if database in databases
    }
    if given is not None:
        yield str(given)
        return
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-base-") as folder:
        built = []
        for database in sorted(needed):
            command = [
                sys.executable,
                str(BENCH / "base.py"),
                "--members",
                str(scale),
                "--out",
                folder,
            ]
            if database == "postgresql":
                command += ["--database-url", url]
            print(f"\n== base ({database}): {scale:,} adhérents générés une fois", flush=True)
            began = time.monotonic()
            done = subprocess.run(command, cwd=BENCH.parent, check=False)  # noqa: S603
            print(f"   ({time.monotonic() - began:.0f} s)")
            if done.returncode == 0:
                built.append(database)
        try:
            yield folder
        finally:
            described = Path(folder) / "postgresql.json"
            if "postgresql" in built and described.exists():
                import psycopg

                name = json.loads(described.read_text())["url"].rsplit("/", 1)[1]
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(
    benchmark: Benchmark, database: str, scale: int, url: str | None, base: str | None = None
) -> list[dict]:
    command = [sys.executable, str(BENCH / benchmark.script), *benchmark.arguments(scale)]
    if database == "postgresql":
        command += ["--database-url", url]
    print(f"\n== {benchmark.name} ({database}): {' '.join(command[1:])}", flush=True)
    began = time.monotonic()
    env = {**os.environ, "BENCH_BASE_DIR": base} if base else None
    process = subprocess.Popen(  # noqa: S603 - our own benchmarks
        command, stdout=subprocess.PIPE, text=True, cwd=BENCH.parent, env=env
    )
    results = []
    for line in process.stdout:
        if line.startswith("RESULT "):
            results.append(json.loads(line[len("RESULT ") :]))
        else:
            print("   " + line, end="", flush=True)
    code = process.wait()
    print(f"   ({time.monotonic() - began:.0f} s)")
    if code or not results:
        results.append(
            {
                "measure": f"{benchmark.name} ({database})",
                "ours": 0,
                "baseline": 0,
                "unit": "",
                "ratio": 0,
                "target": "",
                "met": False,
                "error": f"exit code {code}" if code else "no result printed",
            }
        )
    return results


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPU ({platform.processor() or platform.machine()}), "
        f"{memory:.0f} GiB, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, load average at the end {load}"
    )


def table(results: list[dict]) -> str:
    lines = [
        "| measure | ours | baseline | unit | ratio | target | met |",
        "| --- | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for r in results:
        if r["met"] is None:
            met = "—"  # reported without a target
        elif r["met"]:
            met = "yes"
        else:
            met = "**error**: " + r["error"] if "error" in r else "**no**"
        lines.append(
            f"| {r['measure']} | {r['ours']:,.2f} | {r['baseline']:,.2f} | {r['unit']} | "
            f"{r['ratio']:.2f} | {r['target'] or '—'} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = [b for b in SUITE if not args.only or b.name in args.only.split(",")]
    began = time.monotonic()
    results: list[dict] = []
    needs_pg = "postgresql" in args.databases and any("postgresql" in b.databases for b in chosen)
    databases = args.databases
    with (
        postgresql() if needs_pg else contextlib.nullcontext(None) as url,
        bases(chosen, databases, args.scale, url, args.base) as base,
    ):
        for benchmark in chosen:
            for database in benchmark.databases:
                if database not in databases:
                    continue
                results.append(run_one(benchmark, database, args.scale, url, base))
    results = [r for group in results for r in group]
    elapsed = time.monotonic() - began
    text = table(results)
    print(f"\nScale {args.scale:,} members, {elapsed / 60:.0f} min; {machine()}\n")
    print(text)
    if args.markdown:
        command = " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])])
        args.markdown.write_text(
            f"Command: `{command}`\n\nMachine: {machine()}\n\nDuration: {elapsed / 60:.0f} min\n\n"
            + text
            + "\n"
        )
    return 0 if all(r["met"] is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
