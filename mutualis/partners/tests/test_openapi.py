"""The OpenAPI schema: generated, served at a stable URL, committed under docs/ (no drift)."""

from __future__ import annotations

import json

import pytest

from mutualis.partners import openapi, problems

pytestmark = pytest.mark.django_db


def test_the_committed_schema_is_the_generated_one():
    committed = openapi.COMMITTED.read_text(encoding="utf-8")
    assert committed == openapi.render(), (
        "docs/partners_openapi.json is out of date: run manage.py partners_openapi --write"
    )


def test_the_schema_is_served_at_a_stable_url_without_a_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(openapi.render())


def test_every_error_answer_is_documented_as_a_problem_in_french():
    for path, operations in openapi.schema()["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if int(code) >= 400:
                    assert list(answer["content"]) == [problems.CONTENT_TYPE], (path, method)
                assert answer["description"].endswith("."), (path, method, code)
            assert operation["security"] == [{"PartnerKey": []}], (path, method)


def test_no_operation_takes_a_nir_outside_a_body():
    for operations in openapi.schema()["paths"].values():
        for operation in operations.values():
            names = {p["name"].lower() for p in operation.get("parameters", [])}
            assert "nir" not in names
