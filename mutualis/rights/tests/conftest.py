"""Fixtures of the rights tests; the personas (alice, bob, charlie, dave) come from the root
conftest."""

from __future__ import annotations

import pytest


@pytest.fixture
def alice_client(client, alice):
    """A browser where alice is logged in."""
    client.force_login(alice.account)
    return client


@pytest.fixture
def dave_client(client, dave):
    client.force_login(dave.account)
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what waits for the commit (e-mails) when the block ends."""

    def _block():
        return django_capture_on_commit_callbacks(execute=True)

    return _block
