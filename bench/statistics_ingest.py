"""Benchmark of the audience endpoint against a bare view inserting the same row.

    .venv/bin/python bench/statistics_ingest.py --requests 20000
    .venv/bin/python bench/statistics_ingest.py --scale 0.05        # 1,000 requests a side
    .venv/bin/python bench/statistics_ingest.py --requests 20000 \\
        --database-url postgres://mutualis:mutualis@127.0.0.1:5432/postgres

Serves the site with gunicorn on loopback (``--workers`` sync workers, production settings but
plain HTTP), on a scratch database, with one extra URL: a bare view that inserts the same
``AudienceEvent`` row and answers 204, behind the same middleware. Then, in the same run and
with the same client (``--concurrency`` threads, one connection per request, as gunicorn's sync
workers close each one):

- **endpoint**: ``POST /statistiques/evenement/`` as the site's script sends it (JSON body,
  Origin, a User-Agent among a few, the visitor cookie of one of 100 browsers), which checks the
  origin and the refusal signals, counts the report against its client's allowance (rate limit,
  in the cache), parses the body, resolves the page's route, reads the browser family, verifies
  the signed cookie and inserts the event. Each request comes from an address of its own (behind
  a proxy, ``X-Forwarded-For``), as reports from many visitors do: one address sending
  thousands would be refused (429) after its allowance;
- **bare view**: ``POST /bench/bare/``, which inserts the same row and nothing else.

It prints events per second for both and the ratio endpoint/bare (target: at least 0.5), and
checks the rows each side wrote. Not part of the test suite.

When gunicorn imports this file (``MUTUALIS_BENCH_WSGI=1``) it is the WSGI application: the
project's URLs plus the bare view.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import Result, report  # noqa: E402

DEFAULT_REQUESTS = 20_000
TARGET = 0.5
ROUNDS = 4
ENDPOINT = "/statistiques/evenement/"
BARE = "/bench/bare/"
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
]
PAGES = ["/", "/confidentialite/", "/cookies/", "/contact/", "/espace/connexion/"]


# --- The WSGI application gunicorn serves ------------------------------------------------------
if os.environ.get("MUTUALIS_BENCH_WSGI") == "1":
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = __name__

    import datetime

    from django.core.wsgi import get_wsgi_application
    from django.http import HttpResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    import mutualis.urls
    from mutualis.audience.models import AudienceEvent

    @csrf_exempt
    def bare(request):
        AudienceEvent.objects.create(
            visitor="b" * 32,
            visitor_since=datetime.date.today(),
            kind="view",
            page="web:home",
            browser="Firefox",
        )
        return HttpResponse(status=204)

    urlpatterns = [*mutualis.urls.urlpatterns, path("bench/bare/", bare)]
    application = get_wsgi_application()


# --- The benchmark --------------------------------------------------------------------------------
def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, help=f"per side, default {DEFAULT_REQUESTS:,}")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the default size")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in a temp dir)")
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = max(10, int(DEFAULT_REQUESTS * args.scale))
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.workers = workers

    def __enter__(self):
        env = {
            **os.environ,
            "MUTUALIS_BENCH_WSGI": "1",
            "MUTUALIS_HTTPS": "0",
            "MUTUALIS_BEHIND_PROXY": "1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "ERROR",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "statistics_ingest:application",
            "--pythonpath",
            str(Path(__file__).parent),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:  # an empty report: refused (400) once the application answers
                status, _ = request(self.port, "POST", ENDPOINT, report_headers(self.port, 0, ""))
            except OSError:
                time.sleep(0.2)
                continue
            if status == 400:
                return self
            self.__exit__()
            raise SystemExit(f"gunicorn answered {status}")
        self.__exit__()
        raise SystemExit("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait()


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Set-Cookie") or ""
    finally:
        connection.close()


def visitors(port: int, count: int) -> list[str]:
    """The audience cookies of ``count`` browsers, from their first report (warm-up too)."""
    cookies = []
    for i in range(count):
        body = json.dumps({"t": "view", "p": "/"}).encode()
        status, cookie = request(port, "POST", ENDPOINT, report_headers(port, i, ""), body)
        if status != 204 or "mutualis_audience=" not in cookie:
            raise SystemExit(f"the endpoint answered {status} without a cookie")
        cookies.append(cookie.split(";", 1)[0])
    return cookies


def report_headers(port: int, i: int, cookie: str) -> dict:
    headers = {
        "Content-Type": "application/json",
        "Origin": f"http://127.0.0.1:{port}",
        "User-Agent": AGENTS[i % len(AGENTS)],
        # The client's address as the proxy passes it: one per request (see the docstring).
        "X-Forwarded-For": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
    }
    if cookie:
        headers["Cookie"] = cookie
    return headers


def run(port: int, total: int, concurrency: int, make) -> float:
    """Send ``total`` requests from ``concurrency`` threads; seconds taken."""
    counter = iter(range(total))
    lock = threading.Lock()
    failures = []

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            method, path, headers, body = make(i)
            status, _ = request(port, method, path, headers, body)
            if status != 204:
                failures.append(status)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return elapsed


def main(argv=None) -> None:
    args = parse_args(argv)
    rights_access = _sibling("rights_access.py")
    with tempfile.TemporaryDirectory(prefix="mutualis-bench-") as tmp:
        workdir = Path(tmp)
        url, drop = rights_access.scratch_database(args.database_url, workdir)
        try:
            rights_access.setup_django(url, workdir)
            from django.db import connection

            from mutualis.audience.models import AudienceEvent

            print(f"Base : {connection.vendor}, {args.requests} requêtes de chaque côté")
            connection.close()  # gunicorn's workers use the database meanwhile
            with Gunicorn(args.workers) as server:
                port = server.port
                cookies = visitors(port, 100)
                bodies = [json.dumps({"t": "view", "p": page}).encode() for page in PAGES]

                def ours(i):
                    headers = report_headers(port, i, cookies[i % len(cookies)])
                    return "POST", ENDPOINT, headers, bodies[i % len(bodies)]

                def bare(i):
                    return "POST", BARE, {"Content-Length": "0"}, b""

                run(port, min(200, args.requests), args.concurrency, bare)  # warm-up
                before = AudienceEvent.objects.exclude(visitor="b" * 32).count()
                before_bare = AudienceEvent.objects.filter(visitor="b" * 32).count()
                # Alternating rounds, each side first in turn: neither pays alone for the
                # database's growth or a checkpoint.
                endpoint = baseline = 0.0
                share = max(1, args.requests // ROUNDS)
                for round_ in range(ROUNDS):
                    size = share if round_ < ROUNDS - 1 else args.requests - share * round_
                    sides = [("ours", ours), ("bare", bare)]
                    for name, make in sides if round_ % 2 == 0 else sides[::-1]:
                        seconds = run(port, size, args.concurrency, make)
                        if name == "ours":
                            endpoint += seconds
                        else:
                            baseline += seconds
                written = AudienceEvent.objects.exclude(visitor="b" * 32).count() - before
                written_bare = AudienceEvent.objects.filter(visitor="b" * 32).count() - before_bare
        finally:
            drop()
    if written != args.requests or written_bare != args.requests:
        raise SystemExit(f"rows written: endpoint {written}, bare {written_bare}")
    print(f"point d'entrée : {endpoint:.2f} s ; vue nue : {baseline:.2f} s")
    report(
        Result.of(
            f"audience event ingest ({'postgresql' if args.database_url else 'sqlite'})",
            args.requests / endpoint,
            args.requests / baseline,
            "requests/s",
            f">= {TARGET}",
        )
    )


if __name__ == "__main__":
    main()
