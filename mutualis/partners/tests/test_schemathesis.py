"""schemathesis against the live schema: every operation, valid and invalid inputs, no server
error, every answer conforming to the schema (status, content type, headers, body)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings

from mutualis.recipients.testing import fixed_key, make_pharmacy

# The pharmacy's key, known before the database exists (schemathesis applies it itself, so its
# negative cases without a key stay without one).
KEY = "mtl_schemathes_" + "k" * 43

# Valid by the schema is not always valid: a NIR's key (mod 97) and the bounds of the date of
# care cannot be written in JSON Schema, so a well-formed request may also be refused with 422.
# An invalid request may be refused for its size (413) before its content is read.
CONFIG = schemathesis.Config.from_str(
    f"""
[auth.openapi.PartnerKey]
bearer = "{KEY}"

[generation]
mode = "all"
max-examples = 60

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "422", "429"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "413", "415", "422", "429"]
"""
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler(), config=CONFIG)


@pytest.fixture
def same_connection():
    """Requests run through the real WSGI handler, which closes the database connection at the
    end of each request; like Django's test client, keep it for the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db, alice, same_connection):
    """A pharmacy's key with every scope and no practical rate limit; alice is a member."""
    fixed_key(make_pharmacy(rate_limit=100_000), KEY)


@schema.parametrize()
@settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, api_key):
    case.call_and_validate()
