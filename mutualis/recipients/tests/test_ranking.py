"""One ranking of a person's contracts for every recipient: the pharmacy (rights check) and
the scheme's organisation (exchange file) are told the same status about the same day."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mutualis.contracts.cover import CoverStatus
from mutualis.contracts.models import Contract
from mutualis.partners.tests.helpers import body_for, check
from mutualis.recipients import ranking
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.exchange import outbound

DAY = datetime.date(2026, 3, 2)


def _contract(number: str, start: datetime.date, end: datetime.date | None = None) -> Contract:
    return Contract(number=number, start_date=start, end_date=end)


def _best(*contracts: Contract) -> tuple:
    status, contract, extra = ranking.best_cover(((c, c.number) for c in contracts), on=DAY)
    assert extra == contract.number  # what the caller keeps comes with its contract
    return status, extra


def test_a_contract_in_force_wins_over_any_other():
    ended = _contract("ENDED", DAY - datetime.timedelta(days=400), DAY - datetime.timedelta(1))
    future = _contract("FUTURE", DAY + datetime.timedelta(days=10))
    current = _contract("CURRENT", DAY - datetime.timedelta(days=30))
    assert _best(ended, future, current) == (CoverStatus.COVERED, "CURRENT")


def test_a_contract_not_yet_in_force_wins_over_a_terminated_one():
    ended = _contract("ENDED", DAY - datetime.timedelta(days=400), DAY - datetime.timedelta(1))
    future = _contract("FUTURE", DAY + datetime.timedelta(days=10))
    assert _best(ended, future) == (CoverStatus.NOT_COVERED, "FUTURE")
    assert _best(future, ended) == (CoverStatus.NOT_COVERED, "FUTURE")


def test_among_terminated_contracts_the_latest_ended_and_among_future_ones_the_soonest():
    start = DAY - datetime.timedelta(days=900)
    old = _contract("OLD", start, DAY - datetime.timedelta(days=200))
    recent = _contract("RECENT", start, DAY - datetime.timedelta(days=3))
    assert _best(old, recent) == _best(recent, old) == (CoverStatus.TERMINATED, "RECENT")
    later = _contract("LATER", DAY + datetime.timedelta(days=60))
    sooner = _contract("SOONER", DAY + datetime.timedelta(days=5))
    assert _best(later, sooner) == _best(sooner, later) == (CoverStatus.NOT_COVERED, "SOONER")


def test_without_any_contract_the_person_is_not_covered():
    assert ranking.best_cover([], on=DAY) == (CoverStatus.NOT_COVERED, None, None)


@pytest.mark.django_db
def test_the_pharmacy_and_the_scheme_are_told_the_same_of_an_ended_contract_and_a_future_one(
    client, alice, pharmacy_key, scheme, tmp_path
):
    """Alice's contract ended yesterday and a new one starts in ten days: "not covered" for
    both, and the scheme's line names the new contract."""
    today = timezone.localdate()
    ended = alice.contracts.get()
    Contract.objects.filter(pk=ended.pk).update(start_date=today - datetime.timedelta(days=400))
    # A file of five days ago, when she was covered: today's tells the end of that cover.
    outbound.run(scheme, as_of=today - datetime.timedelta(days=5), directory=tmp_path)
    Contract.objects.filter(pk=ended.pk).update(end_date=today - datetime.timedelta(days=1))
    future = Contract.objects.create(
        number="C000000099",
        member=alice,
        offer=ended.offer,
        start_date=today + datetime.timedelta(days=10),
        cgu_version=ended.cgu_version,
        policy_version=ended.policy_version,
    )
    assert check(client, pharmacy_key, body_for(alice.person)).json()["statut"] == "non_couvert"
    path = outbound.run(scheme, as_of=today, directory=tmp_path).path
    records = fmt.split_records(path.read_bytes(), fmt.OUTBOUND_FORMAT)[1:-1]
    line = next(f for _, f in records if f["quality"] == "A")
    assert (line["status"], line["contract"]) == ("N", future.number)


@pytest.mark.django_db
def test_the_unpaid_premium_files_a_suspension_reads_come_with_the_contracts(
    alice, dave, django_assert_num_queries
):
    """The cover status may read each contract's unpaid-premium files (a suspension): the rights
    check and the exchange fetch them with the contracts, never one query per contract."""
    from mutualis.recipients import rights_check
    from mutualis.recipients.exchange import render

    _status, contract = rights_check.cover_of(alice.person, on=timezone.localdate())
    with django_assert_num_queries(0):
        assert list(contract.dunning_cases.all()) == []
    people = [alice.person, dave.person, alice.beneficiaries.get().person]
    found = render._contracts_of(people)
    assert sum(len(pairs) for pairs in found.values()) == 3
    with django_assert_num_queries(0):
        for pairs in found.values():
            for contract, _role in pairs:
                assert list(contract.dunning_cases.all()) == []
