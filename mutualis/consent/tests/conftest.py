"""Fixtures of the consent tests; the personas come from the root conftest."""

from __future__ import annotations

import pytest


@pytest.fixture
def alice_client(client, alice):
    """A browser where alice is logged in."""
    client.force_login(alice.account)
    return client
