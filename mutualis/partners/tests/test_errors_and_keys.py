"""Bad input gets a French problem (RFC 9457), never a 500; keys are checked, scoped, rotated,
revoked and rate-limited; refusals go to the security log without personal data."""

from __future__ import annotations

import datetime
import json
import logging

import pytest
import time_machine
from django.utils import timezone

from mutualis.audit.models import SecurityEvent
from mutualis.partners import openapi
from mutualis.partners.tests.helpers import NOTICES, URL, auth, body_for, check
from mutualis.partners.tests.helpers import problem as _problem
from mutualis.recipients import services
from mutualis.recipients.models import Scope
from mutualis.recipients.testing import key_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("nir", "words"),
    [("2951099126111", "15 caractères"), ("295109912611194", "clé")],
    ids=["too short", "wrong key"],
)
def test_a_malformed_nir_is_refused_in_french_without_echoing_it(
    client, alice, pharmacy_key, nir, words
):
    response = check(client, pharmacy_key, {**body_for(alice.person), "nir": nir})
    body = _problem(response, 422)
    assert body["erreurs"][0]["champ"] == "nir"
    assert words in body["erreurs"][0]["message"]
    assert nir not in response.content.decode()


def test_an_impossible_date_is_refused(client, alice, pharmacy_key):
    body = _problem(
        check(client, pharmacy_key, {**body_for(alice.person), "date_soins": "2026-02-30"}), 422
    )
    assert body["erreurs"] == [
        {"champ": "date_soins", "message": "La date des soins s'écrit AAAA-MM-JJ et doit exister."}
    ]


def test_both_identifiers_or_none_are_refused(client, alice, pharmacy_key):
    both = {**body_for(alice.person), "numero_adherent": alice.number}
    assert _problem(check(client, pharmacy_key, both), 422)["erreurs"][0]["champ"] == "nir"
    none = {k: v for k, v in body_for(alice.person).items() if k != "nir"}
    assert _problem(check(client, pharmacy_key, none), 422)["erreurs"][0]["champ"] == "nir"


def test_unknown_fields_missing_fields_and_non_objects_are_refused(client, alice, pharmacy_key):
    extra = {**body_for(alice.person), "nom": "Martin"}
    assert _problem(check(client, pharmacy_key, extra), 422)["erreurs"] == [
        {"champ": "nom", "message": "Ce champ n'est pas attendu."}
    ]
    missing = {"nir": alice.person.nir}
    champs = {e["champ"] for e in _problem(check(client, pharmacy_key, missing), 422)["erreurs"]}
    assert champs == {"date_naissance", "date_soins"}
    listed = client.post(URL, "[1, 2]", content_type="application/json", **auth(pharmacy_key))
    assert _problem(listed, 422)["erreurs"][0]["champ"] == "corps"


def test_a_body_that_is_not_json_a_wrong_type_and_an_oversized_body_are_refused(
    client, pharmacy_key, settings
):
    headers = auth(pharmacy_key)
    assert _problem(client.post(URL, "{nir", content_type="application/json", **headers), 400)
    form = client.post(URL, {"nir": "1"}, **headers)  # multipart form
    assert "JSON" in _problem(form, 415)["detail"]
    huge = json.dumps({"nir": "1" * (settings.MUTUALIS_PARTNER_MAX_BODY + 1)})
    assert _problem(client.post(URL, huge, content_type="application/json", **headers), 413)


def test_unknown_paths_and_methods_are_problems_too(client, pharmacy_key):
    _problem(client.get("/api/v1/nulle-part", **auth(pharmacy_key)), 404)
    wrong = client.get(URL, **auth(pharmacy_key))
    _problem(wrong, 405)
    assert "POST" in wrong["Allow"]


def test_an_unreadable_request_is_a_documented_problem_on_every_operation(client, pharmacy_key):
    # Any request may be unreadable before its operation runs (here, its Host header): every
    # operation documents that 400, with the problem it answers.
    unreadable = client.get(NOTICES, HTTP_HOST="AL#&:", **auth(pharmacy_key))
    assert _problem(unreadable, 400)["type"].endswith("/requete-illisible")
    for path, operations in openapi.schema()["paths"].items():
        for method, operation in operations.items():
            assert "400" in {str(code) for code in operation["responses"]}, (path, method)


def test_the_nir_never_reaches_the_logs(client, alice, pharmacy_key, caplog):
    caplog.set_level(logging.DEBUG)
    nir = alice.person.nir
    check(client, pharmacy_key, body_for(alice.person))
    check(client, pharmacy_key, {**body_for(alice.person), "nir": nir[:-1] + "0"})
    check(client, "mtl_wrong", body_for(alice.person))
    assert nir not in caplog.text and nir[:13] not in caplog.text


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Bearer mtl_abc", "Basic dXNlcjpwYXNz", "Bearer mtl_aaaaaaaaaa_secret"],
    ids=["none", "empty", "malformed", "basic", "unknown"],
)
def test_a_missing_or_unknown_key_gets_401_and_a_security_event(client, alice, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        URL, json.dumps(body_for(alice.person)), content_type="application/json", **extra
    )
    _problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    event = SecurityEvent.objects.get()
    assert event.kind == "partners:key:refused" and event.network == "127.0.0.0/24"
    assert alice.person.nir not in json.dumps(event.details)


def test_a_revoked_key_gets_401_at_once(client, alice, pharmacy):
    key = key_for(pharmacy)
    services.revoke_key(credential=pharmacy.credentials.get(), actor=None)
    body = _problem(check(client, key, body_for(alice.person)), 401)
    assert "révoquée" in body["detail"]
    assert SecurityEvent.objects.get().details["reason"] == "revoked"


def test_an_expired_key_gets_401(client, alice, pharmacy):
    key = key_for(pharmacy, expires_at=timezone.now() + datetime.timedelta(hours=1))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2), tick=False):
        assert "expiré" in _problem(check(client, key, body_for(alice.person)), 401)["detail"]


def test_a_rotated_key_keeps_working_during_the_overlap_only(client, alice, pharmacy):
    old = key_for(pharmacy)
    new_credential, new = services.rotate_key(
        credential=pharmacy.credentials.get(), overlap=datetime.timedelta(days=7), actor=None
    )
    assert check(client, old, body_for(alice.person)).status_code == 200
    assert check(client, new, body_for(alice.person)).status_code == 200
    later = timezone.now() + datetime.timedelta(days=7, seconds=1)
    with time_machine.travel(later, tick=False):
        _problem(check(client, old, body_for(alice.person)), 401)
        assert check(client, new, body_for(alice.person)).status_code == 200
    assert new_credential.replaces.prefix in old


def test_a_suspended_organisation_is_refused(client, alice, pharmacy, pharmacy_key):
    services.set_active(organisation=pharmacy, active=False, actor=None)
    assert (
        "suspendu" in _problem(check(client, pharmacy_key, body_for(alice.person)), 401)["detail"]
    )


def test_a_key_without_the_scope_gets_403(client, alice, pharmacy):
    key = key_for(pharmacy, scopes=[Scope.NOTICES_READ])
    _problem(check(client, key, body_for(alice.person)), 403)
    assert SecurityEvent.objects.get().kind == "partners:scope:refused"


def test_the_rate_limit_answers_429_with_retry_after(client, alice, pharmacy, settings):
    settings.MUTUALIS_PARTNER_RATE_WINDOW = 60
    pharmacy.rate_limit = 2
    pharmacy.save()
    key = key_for(pharmacy)
    start = datetime.datetime(2026, 3, 2, 10, 0, 15, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        body = body_for(alice.person, care_date=datetime.date(2026, 3, 2))
        assert check(client, key, body).status_code == 200
        assert check(client, key, body).status_code == 200
        refused = check(client, key, body)
        problem = _problem(refused, 429)
        assert refused["Retry-After"] == "45" and problem["retry_after"] == 45
    assert SecurityEvent.objects.filter(kind="partners:rate:limited").count() == 1
    with time_machine.travel(start + datetime.timedelta(seconds=45), tick=False):
        assert check(client, key, body).status_code == 200


def test_the_limit_counts_per_organisation(client, alice, pharmacy):
    from mutualis.recipients.testing import make_pharmacy

    pharmacy.rate_limit = 1
    pharmacy.save()
    other = make_pharmacy(name="Pharmacie de la Gare", first_eight="69000002", rate_limit=1)
    body = body_for(alice.person)
    assert check(client, key_for(pharmacy), body).status_code == 200
    assert check(client, key_for(other), body).status_code == 200
    assert check(client, key_for(pharmacy), body).status_code == 429


def test_keys_are_stored_hashed_and_shown_once(pharmacy):
    credential, key = services.issue_key(
        organisation=pharmacy, scopes=[Scope.RIGHTS_CHECK], actor=None
    )
    assert key.startswith(f"mtl_{credential.prefix}_") and len(key) > 50
    assert key not in str(vars(credential))
    assert credential.secret_hash == services.hash_key(key)
