"""On PostgreSQL, a rights check finds the person's contracts from indexes, never by reading
every contract: the cover of one person must cost the same at 1,000,000 members as at 600.

As in the member search's test, sequential scans and whole-index reads are priced out, so that
a plan that can only read a table whole shows it (a test database is small enough for the
planner to choose that freely). ``docs/benchmarks.md`` gives the check's rate at 1,000,000 members.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from mutualis.generate import generate
from mutualis.lib.plans import lookup_plan
from mutualis.members.models import Beneficiary, Member
from mutualis.recipients.rights_check import contracts_of, contracts_query

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# A table read whole: by a sequential scan, or by an index read from end to end.
WHOLE_TABLE = re.compile(
    r"(Seq|Index Only) Scan on "
    r"(contracts_contract|contracts_contract_beneficiaries|members_member|members_beneficiary)\b"
)
# The planner's price of a path it was told not to take: a plan holding one had no other way
# (an index read whole, without a condition, to feed a join on every contract).
DISABLED = re.compile(r"cost=\d{11,}\.")


@pytest.fixture
def generated():
    generate(600, seed=5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def test_a_members_contracts_are_found_from_indexes(generated):
    member = Member.objects.order_by("number").first()
    text = lookup_plan(contracts_query(member.person))
    assert "contracts_contract" in text, text
    assert not WHOLE_TABLE.search(text), text
    assert not DISABLED.search(text), text
    assert set(contracts_of(member.person)) == set(member.contracts.all())


def test_a_beneficiarys_contracts_are_found_from_indexes(generated):
    beneficiary = Beneficiary.objects.filter(contracts__isnull=False).order_by("pk").first()
    text = lookup_plan(contracts_query(beneficiary.person))
    assert not WHOLE_TABLE.search(text), text
    assert not DISABLED.search(text), text
    assert set(contracts_of(beneficiary.person)) == set(beneficiary.contracts.all())
