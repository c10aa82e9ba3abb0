"""On PostgreSQL, every kind of member search is answered from an index, never a scan.

A test database is small, so the planner would rightly read its tables whole: sequential scans
and whole-index reads are priced out (``enable_seqscan``, ``enable_indexscan = off``), which leaves
bitmap lookups, a scan only where no index can serve the search, and the index each search must
use is named in its plan. The benchmarks show the plans
the planner chooses by itself at 1,000,000 members (``docs/benchmarks.md``).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from mutualis.backoffice.members.search import members_matching
from mutualis.generate import generate
from mutualis.lib.plans import lookup_plan
from mutualis.members.models import Member, Person

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WHOLE_TABLE = re.compile(r"(Seq|Index Only) Scan on members_(person|member|beneficiary)\b")


@pytest.fixture
def people(settings):
    generate(600, seed=3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_person, members_member, members_beneficiary")
    return Member.objects.select_related("person").order_by("number").first()


def test_a_search_by_name_uses_the_trigram_indexes(people, bob):
    person = people.person
    text = lookup_plan(members_matching(f"{person.last_name} {person.first_names}", user=bob))
    assert "members_person_last_name_trgm" in text, text
    assert not WHOLE_TABLE.search(text), text


def test_a_two_letter_name_uses_the_whole_name_index(people, bob):
    text = lookup_plan(members_matching("Li", user=bob))
    assert "members_person_last_name_upper" in text, text
    assert not WHOLE_TABLE.search(text), text


def test_a_search_by_e_mail_uses_its_trigram_index(people, bob):
    text = lookup_plan(members_matching(people.person.email[:14], user=bob))
    assert "members_person_email_trgm" in text, text
    assert not WHOLE_TABLE.search(text), text


def test_a_search_by_member_number_uses_the_unique_index(people, bob):
    text = lookup_plan(members_matching(people.number, user=bob))
    assert "members_member_number" in text, text
    assert not WHOLE_TABLE.search(text), text


def test_a_search_by_nir_uses_the_blind_index(people):
    text = lookup_plan(Person.objects.with_nir(people.person.nir))
    assert "nir_index" in text, text
    assert not WHOLE_TABLE.search(text), text
