"""Calling the API in tests."""

from __future__ import annotations

import json

from django.utils import timezone

URL = "/api/v1/rights-checks"
NOTICES = "/api/v1/notices"
PROBLEM = "application/problem+json"


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def check(client, key: str | None, body: dict, **extra):
    headers = auth(key) if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers, **extra)


def body_for(person, *, care_date=None, by: str = "nir", birth_date=None) -> dict:
    """A rights-check request for ``person`` (a members.Person) on ``care_date`` (today)."""
    body = {
        "date_naissance": (birth_date or person.birth_date).isoformat(),
        "date_soins": (care_date or timezone.localdate()).isoformat(),
    }
    if by == "nir":
        body["nir"] = person.nir
    else:
        body["numero_adherent"] = person.member.number
    return body


def problem(response, status: int) -> dict:
    """The RFC 9457 problem of an error answer, checked for its shape and status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("/api/v1/problemes/")
    assert body["title"] and body["detail"]
    return body
