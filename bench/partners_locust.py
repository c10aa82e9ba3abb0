"""Locust users of the partners' API benchmark: each sends rights checks without pause.

``MUTUALIS_BENCH_TARGET`` chooses the endpoint (``api``: the real rights check with its key;
``bare``: the baseline view); ``MUTUALIS_BENCH_CASES`` is a JSON file of request bodies.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

CASES = json.loads(Path(os.environ["MUTUALIS_BENCH_CASES"]).read_text(encoding="utf-8"))
TARGET = os.environ.get("MUTUALIS_BENCH_TARGET", "api")
KEY = os.environ.get("MUTUALIS_BENCH_KEY", "")
PATH = "/api/v1/rights-checks" if TARGET == "api" else "/bench/bare-check"


class RightsCheckUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def check(self) -> None:
        headers = {"Content-Type": "application/json"}
        if TARGET == "api":
            headers["Authorization"] = f"Bearer {KEY}"
        with self.client.post(
            PATH,
            data=json.dumps(random.choice(CASES)),
            headers=headers,
            name=TARGET,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or '"statut"' not in response.text:
                response.failure(f"HTTP {response.status_code}")
