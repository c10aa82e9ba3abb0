from __future__ import annotations

import base64
import secrets

import pytest
from django.db import connection

from mutualis.vault import services
from mutualis.vault.tests import models_for_tests


def new_key() -> str:
    """A fresh url-safe base64 key of 32 bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="module")
def person_model(django_db_setup, django_db_blocker):
    """The test model with encrypted fields, with its table, for one test module."""
    with django_db_blocker.unblock():
        with models_for_tests.installed() as model:
            yield model
        # The connection may belong to another context (Playwright's event loop in the browser
        # tests): close it, or the test database could not be dropped at the end of the run.
        if not connection.in_atomic_block:
            connection.close()


@pytest.fixture
def make_person(person_model):
    def make(**values):
        values.setdefault("data_key", services.create_data_key())
        return person_model.objects.create(**values)

    return make


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    services.clear_key_cache()
    yield
    services.clear_key_cache()
