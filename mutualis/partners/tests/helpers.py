"""Calling the API in tests."""

from __future__ import annotations

import json

from django.utils import timezone

URL = "/api/v1/rights-checks"
NOTICES = "/api/v1/notices"


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
