"""Test-suite wide switches.

Tests that need PostgreSQL or Chromium are marked ``postgres`` / ``browser``. On a developer's
machine they skip with a reason when the part is absent; in CI (``CI=true``) a missing part is a
failure, never a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("MUTUALIS_CHROMIUM", "/usr/bin/chromium")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run here)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("browser") and not (
        shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)
    ):
        _missing(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
