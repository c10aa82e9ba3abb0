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
