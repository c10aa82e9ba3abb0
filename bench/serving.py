"""What the benchmarks of pages share: gunicorn on loopback, and Locust run headless against it.

Both run as processes of their own, from this virtual environment: gunicorn with ``--workers`` on
127.0.0.1 and a free port, serving a bench site module (``bench.<name>_site:application``, the
real site plus the bare views); Locust headless, no pause between requests, its statistics read
back from its CSV (requests per second, p50 and p99 in milliseconds, failures).
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def environment(workdir: Path) -> dict[str, str]:
    """What the served site needs beyond ``common.setup_django``'s variables: loopback HTTP,
    persistent connections, an in-process cache, no e-mail leaving the machine, no DEBUG."""
    return {
        "MUTUALIS_VAR_DIR": str(workdir),
        "DATABASE_CONN_MAX_AGE": "600",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MUTUALIS_HTTPS": "0",
        "MUTUALIS_CACHE": "locmem",
        "LOG_LEVEL": "ERROR",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Without DEBUG the legal notice must name the organisation (check web.E004).
        "MUTUALIS_ORG_NAME": "Mutuelle de mesure",
        "MUTUALIS_ORG_SHORT_NAME": "MM",
        "MUTUALIS_ORG_SIREN": "329 678 205",
        "MUTUALIS_ORG_ADDRESS": "1 rue de la Mesure, 75001 Paris",
        "MUTUALIS_DPO_EMAIL": "dpo@mutuelle.example",
        "MUTUALIS_CONTACT_EMAIL": "contact@mutuelle.example",
        "MUTUALIS_HOST_NAME": "Hébergeur de mesure, 1 rue des Serveurs, 59100 Roubaix",
        "MUTUALIS_PUBLICATION_DIRECTOR": "Directrice de la publication de mesure",
        "MUTUALIS_MEDIATOR_NAME": "Médiateur de mesure",
        "MUTUALIS_MEDIATOR_ADDRESS": "2 rue de la Mesure, 75002 Paris",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(module: str, env: dict[str, str], *, workers: int, ready: str):
    """gunicorn serving ``module`` until the block ends; yields its port once ``ready`` answers."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(BIN / "gunicorn"),
            f"{module}:application",
            "--chdir",
            str(ROOT),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env={
            **{k: v for k, v in os.environ.items() if k != "DEBUG"},
            **env,
            "MUTUALIS_BENCH_SERVE": "1",
        },
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2)
                break
            except urllib.error.HTTPError as error:  # it answers, but not as it should
                raise SystemExit(f"gunicorn answers {ready} with HTTP {error.code}") from None
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.5)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def locust(
    locustfile: Path, *, clients: int, seconds: int, port: int, prefix: Path, env: dict[str, str]
) -> dict:
    """One headless Locust run; returns rps, p50 and p99 (ms), requests and failures."""
    subprocess.run(  # noqa: S603 - our own locust, fixed arguments
        [
            str(BIN / "locust"),
            "-f",
            str(locustfile),
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
        env={**os.environ, **env},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stream:
        row = next(r for r in csv.DictReader(stream) if r["Name"] == "Aggregated")

    # Locust writes N/A for the percentiles when no request ended within the run.
    def percentile(text: str) -> float:
        return float("nan") if text == "N/A" else float(text)

    return {
        "rps": float(row["Requests/s"]),
        "p50": percentile(row["50%"]),
        "p99": percentile(row["99%"]),
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
    }
