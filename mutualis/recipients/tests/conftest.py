"""Fixtures of the recipients' tests: a pharmacy and its key, a scheme, an authority."""

from __future__ import annotations

import pytest

from mutualis.recipients.testing import key_for, make_authority, make_pharmacy, make_scheme


@pytest.fixture
def pharmacy(db):
    return make_pharmacy()


@pytest.fixture
def pharmacy_key(pharmacy):
    return key_for(pharmacy)


@pytest.fixture
def scheme(db):
    return make_scheme()


@pytest.fixture
def authority(db):
    return make_authority()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what waits for the commit (e-mails) when the block ends."""

    def _block():
        return django_capture_on_commit_callbacks(execute=True)

    return _block
