"""Member-space pages under gunicorn against bare views of the same pages, same run.

    .venv/bin/python bench/member_space.py [--members 1000] [--database-url postgres://…] \\
        [--sample 200] [--duration 10] [--clients 8,32] [--workers 4] \\
        [--pages dashboard,my_data,messages]

Builds a scratch database of N members with ``manage.py generate_members``' builder
(``mutualis.generate``; SQLite in a temporary directory, or a PostgreSQL database created beside
the one named and dropped at the end), logs ``--sample`` of the members with an account in
(one session each, as after a login), then serves the site with gunicorn (``--workers``,
loopback) and, for each page and each number of concurrent clients, runs Locust (headless, no
pause) for ``--duration`` seconds against the bare view, then against the real page:

- **ours**: the page of the member space — ``/espace/`` (dashboard), ``/espace/mes-donnees/``
  (« Mes données »), ``/espace/messages/`` (the member's threads) — with the member's session
  cookie: session, login and terms checks, the view's queries, the template;
- **bare**: a plain function view (``bench/member_space_site.py``) that reads the same rows with
  one SQL statement, builds the same context and renders the same template, the member named by
  the ids in its URL (no session, no checks).

Before measuring, each page of five members is fetched from both sides and compared (the lines of
the HTML, form tokens and nonces aside): a bare view that drifted from its page stops the run.
Prints requests per second of both and their ratio (target: ours at least 0.5 × bare at 8 and 32
clients), with the p50 and p99 of both. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serving
from common import ROOT, Result, generated_database, report

PAGES = {
    "dashboard": "tableau de bord",
    "my_data": "« Mes données »",
    "messages": "messages",
}
LOCUSTFILE = ROOT / "bench" / "member_space_locust.py"
# Each page on both sides, and a heading it shows only as the member's page (not a login page).
OURS = {"dashboard": "/espace/", "my_data": "/espace/mes-donnees/", "messages": "/espace/messages/"}
BARE = {
    "dashboard": "/bench/nu/espace/{user}/",
    "my_data": "/bench/nu/mes-donnees/{user}/{person}/",
    "messages": "/bench/nu/messages/{user}/",
}
MARKER = {
    "dashboard": "<h2>Vos contrats</h2>",
    "my_data": "<h1>Mes données</h1>",
    "messages": "<h2>Vos échanges avec la mutuelle</h2>",
}
TARGET = ">= 0.5"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=int, help="the suite's common option: --members")
    parser.add_argument("--sample", type=int, default=200, help="members logged in")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measure")
    parser.add_argument("--clients", default="8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--pages", default=",".join(PAGES), help="pages, comma-separated")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    parser.add_argument("--seed", type=int, default=20261120)
    args = parser.parse_args(argv)
    if args.scale:
        args.members = args.scale
    if not set(args.pages.split(",")) <= set(PAGES):
        parser.error(f"--pages: known pages are {', '.join(PAGES)}")
    return args


def build(seed: int, sample: int) -> list[dict]:
    """The generated members, and sessions for a sample of those with an account."""
    from django.test import Client

    from mutualis.contracts import terms
    from mutualis.contracts.models import AcceptanceChannel
    from mutualis.members.models import Member

    accounts = list(
        Member.objects.filter(account__isnull=False).values_list("pk", flat=True).order_by("pk")
    )
    chosen = random.Random(seed).sample(accounts, min(sample, len(accounts)))
    cases = []
    for member in Member.objects.filter(pk__in=chosen).select_related("account"):
        if terms.needs_acceptance(member) is not None:  # as a member who accepted them online
            terms.accept_cgu(member=member, channel=AcceptanceChannel.MEMBER_SPACE)
        client = Client()
        client.force_login(member.account)
        cookie = client.cookies[_cookie_name()].value
        cases.append({"cookie": cookie, "user": member.account_id, "person": str(member.person_id)})
    return cases


def _cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


# --- The bare views must show what the pages show ----------------------------------------------
_VOLATILE = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"')


def _fetch(port: int, path: str, cookie: str | None = None) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.read().decode()


_TAG = re.compile(r"<[^>]*>")


def _unordered(line: str) -> str:
    """A line's tags, then its text's comma-separated items in sorted order."""
    items = sorted(_TAG.sub("", line).strip().split(", "))
    return "".join(_TAG.findall(line)) + " | " + ", ".join(items)


def same_page(port: int, case: dict, page: str) -> None:
    """The bare view and the page show the same lines (order of equal-ranked rows aside)."""
    ours = _fetch(port, OURS[page], f"{_cookie_name()}={case['cookie']}")
    bare = _fetch(port, BARE[page].format(**case))
    # Rows the ORM returns in no defined order (equal sort keys: beneficiaries added the same
    # day) may come in another order: lines are compared as sets of their comma-separated items.
    lines = [
        sorted(_unordered(line) for line in _VOLATILE.sub("", html).splitlines() if line.strip())
        for html in (ours, bare)
    ]
    if MARKER[page] not in ours or lines[0] != lines[1]:
        only_ours = sorted(set(lines[0]) - set(lines[1]))[:5]
        only_bare = sorted(set(lines[1]) - set(lines[0]))[:5]
        raise SystemExit(
            f"La vue nue « {page} » ne montre pas la même page : {only_ours} / {only_bare}"
        )


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    pages = args.pages.split(",")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        os.environ.update(serving.environment(workdir))
        began = time.monotonic()
        _url, drop = generated_database(
            args.database_url, workdir, "member_space", members=args.members, seed=args.seed
        )
        try:
            from django.db import connection, connections

            vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
            cases = build(args.seed, args.sample)
            print(f"  prêts en {time.monotonic() - began:.0f} s", flush=True)
            connections.close_all()
            cases_file = workdir / "cases.json"
            cases_file.write_text(json.dumps(cases))
            env = {
                **serving.environment(workdir),
                "MUTUALIS_BENCH_CASES": str(cases_file),
                "MUTUALIS_BENCH_COOKIE": _cookie_name(),
            }
            with serving.gunicorn(
                "bench.member_space_site", env, workers=args.workers, ready="/"
            ) as port:
                print(
                    f"gunicorn : {args.workers} workers, 127.0.0.1:{port} ; {len(cases)} "
                    f"adhérents connectés ; {args.duration} s par mesure ; client : Locust",
                    flush=True,
                )
                for page in pages:
                    for case in cases[:5]:
                        same_page(port, case, page)
                for page in pages:
                    for count in clients:
                        side = {}
                        for name in ("bare", "ours"):
                            side[name] = serving.locust(
                                LOCUSTFILE,
                                clients=count,
                                seconds=args.duration,
                                port=port,
                                prefix=workdir / f"{page}-{name}-{count}",
                                env={
                                    **env,
                                    "MUTUALIS_BENCH_PAGE": page,
                                    "MUTUALIS_BENCH_SIDE": name,
                                },
                            )
                        ours, bare = side["ours"], side["bare"]
                        result = Result.of(
                            f"member space, {PAGES[page]}, {count} clients, {vendor} "
                            f"(p50 {ours['p50']:.0f} / {bare['p50']:.0f} ms, "
                            f"p99 {ours['p99']:.0f} / {bare['p99']:.0f} ms)",
                            ours["rps"],
                            bare["rps"],
                            "requests/s",
                            TARGET,
                        )
                        if ours["failures"] or bare["failures"] or not ours["requests"]:
                            print(
                                f"  échecs : nous {ours['failures']}/{ours['requests']}, "
                                f"vue nue {bare['failures']}/{bare['requests']}"
                            )
                            result = dataclasses.replace(result, met=False)
                        results.append(report(result))
        finally:
            drop()
    return results


if __name__ == "__main__":
    main()
