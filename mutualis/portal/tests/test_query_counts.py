"""The pages read most often answer with a fixed number of queries, whatever the member holds:
more people covered, more contracts, more threads add rows, never queries (no N+1)."""

from __future__ import annotations

import random

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.contact import services as contact
from mutualis.contact.models import Channel
from mutualis.contracts import services
from mutualis.contracts.testing import child_of, make_person_data, spouse_of
from mutualis.lib.prepared_testing import written_queries

pytestmark = pytest.mark.django_db

# The session, its account, the member, the terms and policy check: before any page's own reads.
EVERY_PAGE = 4
DASHBOARD = EVERY_PAGE + 7  # contracts, covered people, unpaid cases, rates, mandate, balance,
# next debit (the notices of the mandate already read)
MY_DATA = EVERY_PAGE + 5  # beneficiaries, contracts, their covered people, mandates, disclosures
MESSAGES = EVERY_PAGE + 2  # the count of threads, the page of threads


@pytest.fixture(autouse=True)
def _frozen():
    """The session was written at login: no page here writes it again (within the minute)."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def _queries(client, url: str) -> list[str]:
    client.get(url)  # the check of every page is written once per process, then only run
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries]


def _grow_household(member) -> None:
    """A spouse and two more children on alice's contract, and a second contract."""
    contract = member.contracts.get()
    rng = random.Random(7)
    holder = make_person_data(first_names="Alice", last_name="Martin", rng=rng)
    for beneficiary in (
        spouse_of(holder, rng=rng),
        child_of(holder, first_names="Zoé", age=5, rng=rng),
        child_of(holder, first_names="Hugo", age=12, rng=rng),
    ):
        services.cover_new_beneficiary(contract=contract, beneficiary=beneficiary)
    # No service opens a second contract for a member (subscribing makes a new member): the
    # first one's row is copied, which no encrypted field or audited write is part of.
    second = member.contracts.get()
    second.pk = None
    second.number = "C000000042"
    second.save()
    second.beneficiaries.set(member.beneficiaries.all())


def test_the_dashboard_reads_the_same_queries_for_one_person_covered_or_many(
    alice_client, alice, django_assert_max_num_queries
):
    assert len(_queries(alice_client, "/espace/")) == DASHBOARD
    _grow_household(alice)
    body = alice_client.get("/espace/").content.decode()
    assert "C000000042" in body and "Zoé Martin (enfant)" in body
    # Each contract reads its own rate table: one more query for the second contract.
    with django_assert_max_num_queries(DASHBOARD + 1):
        alice_client.get("/espace/")


def test_my_data_reads_the_same_queries_for_one_person_covered_or_many(
    alice_client, alice, django_assert_max_num_queries
):
    assert len(_queries(alice_client, "/espace/mes-donnees/")) == MY_DATA
    _grow_household(alice)
    assert "Hugo Martin" in alice_client.get("/espace/mes-donnees/").content.decode()
    with django_assert_max_num_queries(MY_DATA):
        alice_client.get("/espace/mes-donnees/")


def test_the_messages_page_reads_the_same_queries_for_one_thread_or_many(
    alice_client, alice, django_assert_max_num_queries
):
    def write(subject: str) -> None:
        contact.open_inquiry(
            channel=Channel.MEMBER_SPACE, subject=subject, body="Bonjour", person=alice.person
        )

    write("Première question")
    assert len(_queries(alice_client, "/espace/messages/")) == MESSAGES
    for index in range(5):
        write(f"Question n° {index}")
    assert "Question n° 4" in alice_client.get("/espace/messages/").content.decode()
    with django_assert_max_num_queries(MESSAGES):
        alice_client.get("/espace/messages/")


def test_the_reads_every_view_repeats_are_written_once(alice_client, alice, monkeypatch):
    """The member of the session, their current mandate and their offer's rates: the ORM writes
    those queries once per process (mutualis.lib.prepared), the next views only run them."""
    alice_client.get("/espace/")
    written = written_queries(monkeypatch)
    queries = _queries(alice_client, "/espace/")
    assert any("billing_mandate" in sql for sql in queries)
    assert any("contracts_premiumrate" in sql for sql in queries)
    assert not {"members.Member", "billing.Mandate", "contracts.PremiumRate"} & set(written)
    assert written  # the others are still written at each view (the test sees them)
