"""Benchmark of the rights-check API against a bare view of the same answer, under gunicorn.

    .venv/bin/python bench/partners_api.py --database-url postgres://user:pass@127.0.0.1:5432/db
        [--members 200] [--duration 20] [--clients 1,8,32] [--workers 4]

Builds a scratch PostgreSQL database (created next to the one named, dropped at the end) with
``--members`` members subscribed as the product does, a pharmacy and its key (with no
practical rate limit); starts gunicorn (``--workers``, loopback) serving the real site plus a
baseline view (``bench/partners_site.py``: the same JSON from the same rows, read the same way,
without key, rate limit, schema validation, disclosure or audit); then, for each number of
concurrent clients, runs Locust (headless, no pause between requests) for ``--duration``
seconds against the baseline, then against the API, in the same run. Each answer is checked
(HTTP 200 with a status); failures are counted.

Prints one line per measure: name, ours, baseline, ratio, target, met — requests per second
(target: API ≥ 0.5 × baseline at 1, 8 and 32 clients), then the p50 and p99 latencies of both.
Not part of the test suite. Run it under ``flock /tmp/mutualis-bench.lock``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgres://… of a server where a scratch database may be created",
    )
    parser.add_argument("--members", "--scale", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20, help="seconds per measure")
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url postgres://… is required (the benchmark runs on PostgreSQL)")
    return args


def scratch_database(url: str):
    import psycopg

    name = f"bench_partners_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def environment(database_url: str, workdir: Path) -> dict[str, str]:
    key = lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    return {
        "DJANGO_SETTINGS_MODULE": "mutualis.settings",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "MUTUALIS_VAR_DIR": str(workdir),
        "MUTUALIS_MASTER_KEY": key(),
        "MUTUALIS_BLIND_INDEX_KEY": key(),
        "MUTUALIS_BACKUP_KEY": key(),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "MUTUALIS_HTTPS": "0",
        "MUTUALIS_CACHE": "locmem",
        "LOG_LEVEL": "ERROR",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def build(members: int) -> tuple[list[dict], str]:
    """Members subscribed as the product does; a pharmacy's key. Returns (bodies, key)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from mutualis.contracts import services
    from mutualis.contracts.testing import ensure_offers, make_application, make_person_data
    from mutualis.recipients.models import Organisation
    from mutualis.recipients.testing import key_for, make_pharmacy

    ensure_offers()
    rng = random.Random(7)
    bodies = []
    today = timezone.localdate().isoformat()
    for index in range(members):
        person = make_person_data(
            first_names=f"Prénom{index}",
            last_name=f"Nom{index}",
            email=f"adherent{index}@example.org",
            rng=rng,
        )
        services.subscribe(application=make_application(member=person, rng=rng))
        bodies.append(
            {
                "nir": person.nir,
                "date_naissance": person.birth_date.isoformat(),
                "date_soins": today,
            }
        )
    pharmacy = make_pharmacy()
    Organisation.objects.filter(pk=pharmacy.pk).update(rate_limit=10**9)
    return bodies, key_for(pharmacy)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(BIN / "gunicorn"),
            "bench.partners_site:application",
            "--chdir",
            str(ROOT),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env, "MUTUALIS_BENCH_SERVE": "1"},
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
            return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start")


def locust(target: str, clients: int, seconds: int, port: int, cases: Path, key: str, out: Path):
    prefix = out / f"{target}-{clients}"
    subprocess.run(  # noqa: S603 - our own locust, fixed arguments
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "partners_locust.py"),
            "--headless",
            "--only-summary",
            "-u",
            str(clients),
            "-r",
            str(clients),
            "-t",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--loglevel",
            "ERROR",
        ],
        env={
            **os.environ,
            "MUTUALIS_BENCH_TARGET": target,
            "MUTUALIS_BENCH_CASES": str(cases),
            "MUTUALIS_BENCH_KEY": key,
        },
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stream:
        row = next(r for r in csv.DictReader(stream) if r["Name"] == "Aggregated")
    return {
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p99": float(row["99%"]),
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
    }


def line(name: str, ours: float, baseline: float, unit: str, target: str, met) -> str:
    ratio = ours / baseline if baseline else 0.0
    verdict = "" if met is None else ("oui" if met else "non")
    return (
        f"{name:<24} ours={ours:>9.1f} {unit:<4} baseline={baseline:>9.1f} {unit:<4} "
        f"ratio={ratio:>5.2f} target={target:<7} met={verdict}"
    )


def main() -> None:
    args = parse_args()
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    url, drop = scratch_database(args.database_url)
    gunicorn = None
    try:
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            env = environment(url, workdir)
            os.environ.update(env)
            os.environ.pop("DEBUG", None)
            print(f"Construction : {args.members} adhérents sur PostgreSQL…", flush=True)
            bodies, key = build(args.members)
            from django.db import connections

            connections.close_all()
            cases = workdir / "cases.json"
            cases.write_text(json.dumps(bodies))
            port = free_port()
            gunicorn = start_gunicorn(env, port, args.workers)
            print(
                f"gunicorn : {args.workers} workers, 127.0.0.1:{port} ; {args.duration} s par "
                f"mesure ; client : Locust",
                flush=True,
            )
            all_met = True
            for count in clients:
                bare = locust("bare", count, args.duration, port, cases, key, workdir)
                api = locust("api", count, args.duration, port, cases, key, workdir)
                met = api["rps"] >= TARGET_RATIO * bare["rps"] and not api["failures"]
                all_met &= met
                print(
                    line(
                        f"rights_check_rps_c{count}", api["rps"], bare["rps"], "r/s", ">=0.50", met
                    )
                )
                print(line(f"rights_check_p50_c{count}", api["p50"], bare["p50"], "ms", "-", None))
                print(line(f"rights_check_p99_c{count}", api["p99"], bare["p99"], "ms", "-", None))
                if api["failures"] or bare["failures"]:
                    print(
                        f"  échecs : API {api['failures']}/{api['requests']}, "
                        f"témoin {bare['failures']}/{bare['requests']}"
                    )
            print(
                f"Objectif (API ≥ {TARGET_RATIO} × témoin à chaque charge) : "
                f"{'atteint' if all_met else 'non atteint'}"
            )
    finally:
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
