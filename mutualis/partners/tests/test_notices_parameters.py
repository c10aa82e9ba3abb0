"""The notices' parameters (``depuis``, ``limite``): bad, boundary and good values; URL
parameters an operation does not take; answers no cache may keep."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine

from mutualis.partners.tests.helpers import NOTICES, URL, auth, body_for, check, problem
from mutualis.partners.validation import FIELD_MESSAGES
from mutualis.recipients import notices
from mutualis.recipients.models import NoticeCause

pytestmark = pytest.mark.django_db

# 10:00 and 12:00 in Paris (winter time, UTC+1).
FIRST = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
SECOND = FIRST + datetime.timedelta(hours=2)
RANGE = "La date doit être comprise entre le 01/01/1900 et le 31/12/2999."


@pytest.fixture
def two_notices(client, alice, pharmacy_key):
    """The pharmacy checked alice; her name was then rectified twice (10:00 and 12:00, Paris):
    two notices for the pharmacy to read. Returns their ids, oldest first."""
    created = []
    with time_machine.travel(FIRST, tick=False):
        check(client, pharmacy_key, body_for(alice.person))
    for moment in (FIRST, SECOND):
        with time_machine.travel(moment, tick=False):
            created += notices.notify(
                subject_id=str(alice.person_id),
                categories=["identity"],
                cause=NoticeCause.RECTIFICATION,
                source="rights.rightsrequest:1",
            )
    return [str(n.pk) for n in created]


def _listed(client, key, **params) -> list[str]:
    with time_machine.travel(SECOND + datetime.timedelta(hours=1), tick=False):
        response = client.get(NOTICES, params, **auth(key))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return [n["id"] for n in response.json()["avis"]]


def _refused(client, key, field: str, **params) -> str:
    body = problem(client.get(NOTICES, params, **auth(key)), 422)
    assert [e["champ"] for e in body["erreurs"]] == [field]
    return body["erreurs"][0]["message"]


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "1899-12-31T23:59:59",
        "3000-01-01T00:00:00Z",
    ],
    ids=["year 1", "year 9999", "year 1 east", "year 9999 west", "day before 1900", "year 3000"],
)
def test_a_depuis_out_of_range_is_refused_in_french_and_never_a_server_error(
    client, pharmacy_key, value
):
    assert _refused(client, pharmacy_key, "depuis", depuis=value) == RANGE


@pytest.mark.parametrize(
    "value",
    [
        "hier",
        "1700000000",
        "2026-02-30T00:00",
        "2026-03-01T25:00",
        "2026-03-01T00:00+24:00",
        "0000-01-01T00:00",
        "2026-03-01",
    ],
    ids=["word", "timestamp", "no 30 February", "hour 25", "offset 24 h", "year 0", "no time"],
)
def test_a_malformed_depuis_is_refused_with_the_expected_format(client, pharmacy_key, value):
    assert _refused(client, pharmacy_key, "depuis", depuis=value) == FIELD_MESSAGES["depuis"]


def test_the_first_and_last_accepted_moments_of_depuis_are_answered(
    client, pharmacy_key, two_notices
):
    assert _listed(client, pharmacy_key, depuis="1900-01-01T00:00:00+14:00") == two_notices
    assert _listed(client, pharmacy_key, depuis="1900-01-01T00:00") == two_notices
    assert _listed(client, pharmacy_key, depuis="2999-12-31T23:59:59-12:00") == []
    assert _listed(client, pharmacy_key, depuis="2999-12-31T23:59:59") == []


def test_depuis_keeps_the_later_notices_and_a_date_without_offset_is_read_in_paris(
    client, pharmacy_key, two_notices
):
    assert _listed(client, pharmacy_key) == two_notices
    # 11:00 in Paris is 10:00 UTC: between the two notices.
    assert _listed(client, pharmacy_key, depuis="2026-03-02T11:00") == two_notices[1:]
    assert _listed(client, pharmacy_key, depuis="2026-03-02T10:00:00Z") == two_notices[1:]
    assert _listed(client, pharmacy_key, depuis="2026-03-02T09:59:59+01:00") == two_notices
    assert _listed(client, pharmacy_key, depuis="2026-03-02T12:00:00+01:00") == []


@pytest.mark.parametrize("value", ["0", "201", "-1", "dix", "1.5", ""])
def test_a_limite_outside_1_to_200_or_not_an_integer_is_refused(client, pharmacy_key, value):
    assert _refused(client, pharmacy_key, "limite", limite=value) == FIELD_MESSAGES["limite"]


def test_limite_bounds_the_number_of_notices_from_1_to_200(client, pharmacy_key, two_notices):
    assert _listed(client, pharmacy_key, limite="1") == two_notices[:1]
    assert _listed(client, pharmacy_key, limite="2") == two_notices
    assert _listed(client, pharmacy_key, limite="200") == two_notices


def test_a_nir_in_the_url_is_refused_and_never_echoed_nor_logged(
    client, alice, pharmacy_key, caplog
):
    caplog.set_level(logging.DEBUG)
    nir = alice.person.nir
    listed = client.get(NOTICES, {"nir": nir}, **auth(pharmacy_key))
    checked = client.post(
        f"{URL}?nir={nir}", "{}", content_type="application/json", **auth(pharmacy_key)
    )
    for response in (listed, checked):
        body = problem(response, 422)
        assert [e["champ"] for e in body["erreurs"]] == ["url"]
        assert nir not in response.content.decode()
    assert nir not in caplog.text


def test_every_answer_about_a_person_says_no_store(client, alice, pharmacy_key):
    answer = check(client, pharmacy_key, body_for(alice.person))
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    stranger = {**body_for(alice.person), "date_naissance": "1950-01-01"}
    unknown = check(client, pharmacy_key, stranger)
    assert unknown.json()["statut"] == "inconnu" and unknown["Cache-Control"] == "no-store"
    listed = client.get(NOTICES, **auth(pharmacy_key))
    assert listed.status_code == 200 and listed["Cache-Control"] == "no-store"
    refused = check(client, pharmacy_key, {**body_for(alice.person), "date_soins": "hier"})
    assert refused["Cache-Control"] == "no-store"
