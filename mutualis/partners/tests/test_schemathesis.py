"""schemathesis against the live schema: every operation, valid and invalid inputs, no server
error, every answer conforming to the schema (status, content type, headers, body); and one
valid request about a known demo member, which must get 200 and the documented body."""

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


@pytest.fixture
def demo_member(db, same_connection):
    """The demo data (``manage.py demo``): the demo member alice, whose number and birth date
    ``make run`` prints with the demo pharmacy's key."""
    from io import StringIO

    from django.core.management import call_command

    from mutualis.members.models import Member

    call_command("demo", stdout=StringIO())
    return Member.objects.select_related("person").get(person__email="alice@example.org")


def test_a_valid_check_of_a_known_demo_member_gets_200_and_the_documented_body(demo_member):
    """Generated valid requests may be refused (422, unknown patient); this one may not."""
    from django.conf import settings as django_settings
    from django.utils import timezone

    from mutualis.audit.models import Disclosure
    from mutualis.recipients.demo import DEMO_KEY
    from mutualis.recipients.models import RightsCheck

    today = timezone.localdate()
    case = schema["/api/v1/rights-checks"]["POST"].Case(
        body={
            "numero_adherent": demo_member.number,
            "date_naissance": demo_member.person.birth_date.isoformat(),
            "date_soins": today.isoformat(),
        },
        media_type="application/json",
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    )
    response = case.call_and_validate()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ["application/json; charset=utf-8"]
    assert response.headers["cache-control"] == ["no-store"]
    body = response.json()
    assert set(body) == {
        "reference",
        "statut",
        "libelle",
        "date_soins",
        "organisme_complementaire",
        "garanties",
    }
    assert body["statut"] == "couvert"
    assert body["libelle"] == "droits ouverts : tiers payant possible"
    assert body["date_soins"] == today.isoformat()
    assert body["organisme_complementaire"] == {
        "numero": django_settings.MUTUALIS_AMC_NUMBER,
        "nom": django_settings.MUTUALIS_ORGANISATION["name"],
    }
    assert body["garanties"] and all(
        set(g) == {"domaine", "libelle", "taux", "tiers_payant"} for g in body["garanties"]
    )
    check = RightsCheck.objects.get(pk=body["reference"])
    assert check.subject_id == str(demo_member.person_id)
    assert Disclosure.objects.filter(pk=check.disclosure_id).exists()
