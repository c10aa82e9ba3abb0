"""Locust users of the member-space benchmark: each asks for one page again and again, no pause.

``MUTUALIS_BENCH_PAGE`` names the page (``dashboard``, ``my_data``, ``messages``);
``MUTUALIS_BENCH_SIDE`` the side (``ours``: the real page with a member's session cookie;
``bare``: the bare view, named by the member's ids, no cookie); ``MUTUALIS_BENCH_CASES`` is a JSON
file of members (session cookie, account id, person id); ``MUTUALIS_BENCH_COOKIE`` the session
cookie's name.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from locust import FastHttpUser, constant, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from member_space import BARE, MARKER, OURS

CASES = json.loads(Path(os.environ["MUTUALIS_BENCH_CASES"]).read_text(encoding="utf-8"))
PAGE = os.environ.get("MUTUALIS_BENCH_PAGE", "dashboard")
SIDE = os.environ.get("MUTUALIS_BENCH_SIDE", "ours")
COOKIE = os.environ.get("MUTUALIS_BENCH_COOKIE", "sessionid")


class MemberSpaceUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def page(self) -> None:
        case = random.choice(CASES)
        self.client.cookiejar.clear()
        if SIDE == "ours":
            path, headers = OURS[PAGE], {"Cookie": f"{COOKIE}={case['cookie']}"}
        else:
            path, headers = BARE[PAGE].format(**case), {}
        with self.client.get(
            path, headers=headers, name=f"{SIDE}:{PAGE}", catch_response=True
        ) as response:
            if response.status_code != 200 or MARKER[PAGE] not in (response.text or ""):
                response.failure(f"HTTP {response.status_code}")
