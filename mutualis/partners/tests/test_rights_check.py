"""The rights check: a pharmacy's key learns a patient's cover, and nothing more; each answer
about a person is a disclosure written with it."""

from __future__ import annotations

import datetime
import json
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.audit.models import Disclosure, Event
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import subscribe_with_twins
from mutualis.lib.prepared_testing import written_queries
from mutualis.partners.tests.helpers import body_for, check
from mutualis.privacy import catalogue, restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.recipients.models import CheckOutcome, RightsCheck
from mutualis.vault import services as vault

pytestmark = pytest.mark.django_db


def test_a_pharmacy_checks_a_covered_member_and_the_answer_is_a_disclosure(
    client, alice, pharmacy, pharmacy_key
):
    response = check(client, pharmacy_key, body_for(alice.person))
    assert response.status_code == 200
    answer = response.json()
    assert answer["statut"] == "couvert"
    assert answer["organisme_complementaire"]["numero"]
    domains = {g["domaine"]: g["taux"] for g in answer["garanties"]}
    assert domains["PHAR"] == 100 and domains["OPTI"] == 250  # alice's "confort" offer
    check_row = RightsCheck.objects.get(pk=answer["reference"])
    disclosure = check_row.disclosure
    assert check_row.outcome == CheckOutcome.COVERED
    assert disclosure.recipient == catalogue.HEALTH_PROFESSIONALS.code
    assert disclosure.subject_id == str(alice.person_id)
    assert set(disclosure.categories) == {c.code for c in catalogue.HEALTH_PROFESSIONALS.categories}
    assert "Pharmacie du Centre" in disclosure.reason
    assert disclosure.actor == f"organisation:{pharmacy.pk}"


def test_the_answer_holds_no_name_no_nir_and_no_contract_number(client, alice, pharmacy_key):
    response = check(client, pharmacy_key, body_for(alice.person))
    text = response.content.decode()
    contract = alice.contracts.get()
    for value in (alice.person.nir, alice.person.last_name, alice.person.first_names):
        assert value not in text
    assert contract.number not in text and alice.number not in text
    assert set(response.json()) == {
        "reference",
        "statut",
        "libelle",
        "date_soins",
        "organisme_complementaire",
        "garanties",
    }


def test_a_child_attached_to_the_parents_nir_is_found_by_the_parents_nir(
    client, alice, pharmacy_key
):
    child = alice.beneficiaries.get().person
    body = body_for(alice.person, birth_date=child.birth_date)
    response = check(client, pharmacy_key, body)
    assert response.json()["statut"] == "couvert"
    assert Disclosure.objects.get().subject_id == str(child.pk)


def test_twins_attached_to_one_nir_with_one_birth_date_get_the_unknown_answer(client, pharmacy_key):
    member, twins = subscribe_with_twins(random.Random(7))
    body = body_for(member.person, birth_date=twins[0].person.birth_date)
    response = check(client, pharmacy_key, body)
    assert response.json()["statut"] == "inconnu"
    assert not Disclosure.objects.exists()
    # The parent, under the same NIR, is still recognised by their own birth date.
    response = check(client, pharmacy_key, body_for(member.person))
    assert response.json()["statut"] == "couvert"


def test_a_check_reads_the_person_named_once_and_asks_the_restriction_guard_once(
    client, alice, pharmacy_key
):
    # The holder of the NIR is born on the date asked: the children attached are not read. The
    # guard is asked before the answer's transaction (a refusal stays on record), not again.
    with CaptureQueriesContext(connection) as queries:
        response = check(client, pharmacy_key, body_for(alice.person))
    assert response.json()["statut"] == "couvert"
    for table in ("members_person", "privacy_restriction"):
        reads = [q for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
        assert len(reads) == 1, table


@pytest.mark.parametrize("by", ["nir", "member"])
def test_a_check_compiles_none_of_its_reads_again(client, alice, pharmacy_key, monkeypatch, by):
    # Writing a query's SQL cost the check more CPU than the database's answers: its reads are
    # compiled once (lib/prepared.py), and the next checks only run them.
    body = body_for(alice.person, by=by)
    assert check(client, pharmacy_key, body).json()["statut"] == "couvert"
    compiled = written_queries(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert check(client, pharmacy_key, body).json()["statut"] == "couvert"
    reads = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) >= 5  # credential, person, restrictions, contracts, their files, guarantees
    assert compiled == []


def test_a_member_number_finds_a_beneficiary_by_their_birth_date(client, alice, pharmacy_key):
    child = alice.beneficiaries.get().person
    body = body_for(alice.person, by="member", birth_date=child.birth_date)
    response = check(client, pharmacy_key, body)
    assert response.json()["statut"] == "couvert"
    assert Disclosure.objects.get().subject_id == str(child.pk)


def test_a_member_number_finds_the_member(client, alice, pharmacy_key):
    response = check(client, pharmacy_key, body_for(alice.person, by="member"))
    assert response.json()["statut"] == "couvert"


@pytest.mark.parametrize(
    "change",
    [
        lambda person: {"date_naissance": "1950-01-01"},
        lambda person: {"nir": "295109912611193"},
    ],
    ids=["wrong birth date", "unknown nir"],
)
def test_no_match_reads_unknown_and_discloses_nothing(client, alice, pharmacy_key, change):
    body = {**body_for(alice.person), **change(alice.person)}
    response = check(client, pharmacy_key, body)
    assert response.status_code == 200
    assert response.json()["statut"] == "inconnu" and response.json()["garanties"] == []
    assert not Disclosure.objects.exists()
    assert RightsCheck.objects.get().outcome == CheckOutcome.UNKNOWN


def test_an_ended_contract_reads_terminated_and_a_future_one_not_covered(
    client, alice, pharmacy_key
):
    contract = alice.contracts.get()
    today = timezone.localdate()
    Contract.objects.filter(pk=contract.pk).update(
        start_date=today - datetime.timedelta(days=400), end_date=today - datetime.timedelta(days=1)
    )
    assert check(client, pharmacy_key, body_for(alice.person)).json()["statut"] == "resilie"
    Contract.objects.filter(pk=contract.pk).update(
        start_date=today + datetime.timedelta(days=10), end_date=None
    )
    answer = check(client, pharmacy_key, body_for(alice.person)).json()
    assert answer["statut"] == "non_couvert" and answer["garanties"] == []
    assert Disclosure.objects.count() == 2  # both answers told something about alice


def test_a_cover_suspended_for_unpaid_premiums_reads_suspended(client, alice, pharmacy_key):
    """C. mutualité L221-7: once the cover is suspended, the pharmacy is told so (and given no
    guarantee levels); paid in full, the cover is back from noon the next day."""
    from decimal import Decimal

    from mutualis.billing import dunning

    today = timezone.localdate()
    due = dunning.Unpaid(Decimal("42.00"), today - datetime.timedelta(days=60), None)
    case = dunning.open_case(member=alice, due=due, today=today)
    dunning.send_notice(case, today=today - datetime.timedelta(days=40))
    dunning._suspend(case)  # thirty days after the notice, as the daily run does
    answer = check(client, pharmacy_key, body_for(alice.person)).json()
    assert answer["statut"] == "suspendu" and answer["garanties"] == []


def test_a_restricted_person_gets_the_answer_of_an_unknown_one(client, alice, pharmacy_key):
    restrictions.start(
        subject=alice.person,
        purpose=restrictions.ALL_PURPOSES,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    unknown = check(
        client, pharmacy_key, {**body_for(alice.person), "date_naissance": "1950-01-01"}
    )
    restricted = check(client, pharmacy_key, body_for(alice.person))
    assert restricted.status_code == 200
    same = {k: v for k, v in restricted.json().items() if k != "reference"}
    assert same == {k: v for k, v in unknown.json().items() if k != "reference"}
    assert not Disclosure.objects.exists()
    row = RightsCheck.objects.get(pk=restricted.json()["reference"])
    assert row.outcome == CheckOutcome.RESTRICTED and row.subject_id == str(alice.person_id)
    assert Event.objects.filter(tag="privacy:restriction:refuse").exists()


def test_a_person_whose_key_is_shredded_gets_the_unknown_answer_without_a_crash(
    client, alice, pharmacy_key
):
    body = body_for(alice.person, by="member")
    vault.shred(alice.person)
    response = check(client, pharmacy_key, body)
    assert response.status_code == 200 and response.json()["statut"] == "inconnu"
    assert not Disclosure.objects.exists()
    assert RightsCheck.objects.get().outcome == CheckOutcome.ERASED


def test_one_organisations_key_never_reads_another_organisations_data(
    client, alice, dave, bob, pharmacy, pharmacy_key
):
    """Two pharmacies check alice, the second dave too; alice's name is then rectified. Each
    key reads only its own notices, naming only its own checks; one reading marks nothing of
    the other's as delivered; no answer carries another's reference."""
    from mutualis.partners.tests.helpers import NOTICES, auth
    from mutualis.recipients.models import Notice
    from mutualis.recipients.testing import key_for, make_pharmacy
    from mutualis.rights import handlers, processing
    from mutualis.rights.models import Kind

    other = make_pharmacy(name="Pharmacie de la Gare", first_eight="69000002")
    other_key = key_for(other)
    mine = check(client, pharmacy_key, body_for(alice.person))
    theirs = check(client, other_key, body_for(alice.person))
    theirs_dave = check(client, other_key, body_for(dave.person))
    assert mine.json()["reference"] not in theirs.content.decode() + theirs_dave.content.decode()
    assert theirs.json()["reference"] not in mine.content.decode()
    checks = {r.pk: (r.organisation, r.subject_id) for r in RightsCheck.objects.all()}
    assert sorted(checks.values(), key=lambda v: (v[0].pk, v[1])) == sorted(
        [
            (pharmacy, str(alice.person_id)),
            (other, str(alice.person_id)),
            (other, str(dave.person_id)),
        ],
        key=lambda v: (v[0].pk, v[1]),
    )
    changes = {"last_name": "Martin-Roy"}
    request = processing.request_from_member_space(
        member=alice, kind=Kind.RECTIFICATION, details={"changes": changes}
    )
    handlers.apply_rectification(request=request, changes=changes, actor=bob)
    assert Notice.objects.filter(organisation=other).exists()
    read_by_mine = client.get(NOTICES, **auth(pharmacy_key)).json()["avis"]
    assert read_by_mine and {ref for n in read_by_mine for ref in n["references"]} == {
        mine.json()["reference"]
    }
    assert not Notice.objects.filter(organisation=other, delivered_at__isnull=False).exists()
    read_by_theirs = client.get(NOTICES, **auth(other_key)).json()["avis"]
    assert {ref for n in read_by_theirs for ref in n["references"]} == {theirs.json()["reference"]}
    assert not {n["id"] for n in read_by_mine} & {n["id"] for n in read_by_theirs}


@pytest.mark.parametrize(
    ("days", "status"),
    [(-730, 200), (-731, 422), (180, 200), (181, 422)],
    ids=["two years ago", "a day earlier", "six months ahead", "a day later"],
)
def test_the_date_of_care_is_accepted_two_years_back_and_six_months_ahead(
    client, alice, pharmacy_key, days, status
):
    care = timezone.localdate() + datetime.timedelta(days=days)
    response = check(client, pharmacy_key, body_for(alice.person, care_date=care))
    assert response.status_code == status
    if status == 422:
        assert response.json()["erreurs"][0]["champ"] == "date_soins"


def test_the_disclosure_and_the_answer_commit_together(client, alice, pharmacy_key, monkeypatch):
    """A failure after the disclosure rolls back the answer's record too (one transaction)."""
    from mutualis.recipients import rights_check

    real = rights_check._INSERT_CHECK

    def failing(check_row):
        if check_row.disclosure_id is not None:
            raise RuntimeError("disk full")
        return real(check_row)

    monkeypatch.setattr(rights_check, "_INSERT_CHECK", failing)
    response = check(client, pharmacy_key, body_for(alice.person))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert not Disclosure.objects.exists() and not RightsCheck.objects.exists()
    assert json.loads(response.content)["type"] == "/api/v1/problemes/erreur-interne"
