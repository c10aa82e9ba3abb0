"""Fixtures of the audience tests; the personas come from the root conftest."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The endpoint's rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()
