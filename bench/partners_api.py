"""Benchmark of the rights-check API against a bare view of the same answer, under gunicorn.

    .venv/bin/python bench/partners_api.py --database-url postgres://… [--members 1000] \\
        [--sample 200] [--duration 20] [--clients 1,8,32] [--workers 4]

Builds a scratch database (PostgreSQL beside the one named, dropped at the end; SQLite in a
temporary directory without ``--database-url``) of ``--members`` members with ``manage.py
generate_members``' builder (``mutualis.generate``: encrypted as the models do, blind indexes
included), takes ``--sample`` of them as the requests' subjects (NIR and birth date, read back
through the models), registers a pharmacy with a key and no practical rate limit, and starts
gunicorn (``--workers``, loopback) serving the real site plus a baseline view
(``bench/partners_site.py``: the same JSON from the same rows, read the same way, without key,
rate limit, schema validation, disclosure or audit). Then, for each number of concurrent
clients, Locust (headless, no pause between requests) runs ``--duration`` seconds against the
baseline, then against the API, in the same run. Each answer is checked (HTTP 200 with a
status); failures are counted and fail the measure.

Prints one ``RESULT`` line per number of clients (``bench/common.py``): requests per second of
both (target: API ≥ 0.5 × baseline), with the p50 and p99 of both. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving
from common import ROOT, Result, generated_database, report

LOCUSTFILE = ROOT / "bench" / "partners_locust.py"
TARGET = ">= 0.5"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=int, help="the suite's common option: --members")
    parser.add_argument("--sample", type=int, default=200, help="members the requests name")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measure")
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    args = parser.parse_args(argv)
    if args.scale:
        args.members = args.scale
    return args


def build(seed: int, sample: int) -> tuple[list[dict], str]:
    """The generated members, the sample's request bodies, and a pharmacy's key."""
    from django.utils import timezone

    from mutualis.members.models import Member
    from mutualis.recipients.models import Organisation
    from mutualis.recipients.testing import key_for, make_pharmacy

    ids = list(Member.objects.values_list("pk", flat=True).order_by("pk"))
    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    today = timezone.localdate().isoformat()
    bodies = [
        {
            "nir": member.person.nir,
            "date_naissance": member.person.birth_date.isoformat(),
            "date_soins": today,
        }
        for member in Member.objects.filter(pk__in=chosen).select_related(
            "person", "person__data_key"
        )
    ]
    pharmacy = make_pharmacy()
    Organisation.objects.filter(pk=pharmacy.pk).update(rate_limit=10**9)
    return bodies, key_for(pharmacy)


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        os.environ.update(serving.environment(workdir))
        began = time.monotonic()
        _url, drop = generated_database(
            args.database_url, workdir, "partners", members=args.members, seed=args.seed
        )
        try:
            from django.db import connection, connections

            vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
            bodies, key = build(args.seed, args.sample)
            print(f"  prêts en {time.monotonic() - began:.0f} s", flush=True)
            connections.close_all()
            cases = workdir / "cases.json"
            cases.write_text(json.dumps(bodies))
            env = {
                **serving.environment(workdir),
                "MUTUALIS_BENCH_CASES": str(cases),
                "MUTUALIS_BENCH_KEY": key,
            }
            with serving.gunicorn(
                "bench.partners_site", env, workers=args.workers, ready="/api/v1/openapi.json"
            ) as port:
                print(
                    f"gunicorn : {args.workers} workers, 127.0.0.1:{port} ; {args.duration} s "
                    "par mesure ; client : Locust",
                    flush=True,
                )
                for count in clients:
                    side = {
                        target: serving.locust(
                            LOCUSTFILE,
                            clients=count,
                            seconds=args.duration,
                            port=port,
                            prefix=workdir / f"{target}-{count}",
                            env={**env, "MUTUALIS_BENCH_TARGET": target},
                        )
                        for target in ("bare", "api")
                    }
                    api, bare = side["api"], side["bare"]
                    result = Result.of(
                        f"partners' API rights check, {count} client"
                        f"{'s' if count > 1 else ''}, {vendor} "
                        f"(p50 {api['p50']:.0f} / {bare['p50']:.0f} ms, "
                        f"p99 {api['p99']:.0f} / {bare['p99']:.0f} ms)",
                        api["rps"],
                        bare["rps"],
                        "requests/s",
                        TARGET,
                    )
                    if api["failures"] or bare["failures"] or not api["requests"]:
                        print(
                            f"  échecs : API {api['failures']}/{api['requests']}, "
                            f"témoin {bare['failures']}/{bare['requests']}"
                        )
                        result = dataclasses.replace(result, met=False)
                    results.append(report(result))
        finally:
            drop()
    return results


if __name__ == "__main__":
    main()
