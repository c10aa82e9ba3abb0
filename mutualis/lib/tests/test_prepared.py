"""Prepared queries: compiled once, then run with new values, giving what the ORM gives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.contracts.models import Contract, Guarantee
from mutualis.lib.prepared import PreparedQuery, set_prefetched
from mutualis.members.models import Member, Person

pytestmark = pytest.mark.django_db


def counted(build):
    """``build``, counting its calls (each one is a compilation)."""
    calls = []

    def counting(*values):
        calls.append(values)
        return build(*values)

    return counting, calls


def fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_instances_are_the_orms_with_their_related_objects_and_converted_values(alice, dave):
    build, compilations = counted(
        lambda number: Member.objects.select_related("person", "person__data_key").filter(
            number=number
        )
    )
    by_number = PreparedQuery(build)
    for member in (alice, dave):
        expected = Member.objects.select_related("person").get(number=member.number)
        born = expected.person.birth_date
        with CaptureQueriesContext(connection) as queries:
            (found,) = by_number(member.number)
            assert fields_of(found) == fields_of(expected)
            assert fields_of(found.person) == fields_of(expected.person)
            assert found.person.birth_date == born  # decrypted with the data key read along
            assert found.person.data_key.pk == expected.person.data_key_id
        assert len(queries) == 1, "select_related objects are read by the same query"
        assert found._state.adding is False and found._state.db == "default"
    assert len(compilations) == 1, "the SQL is written once and run with each value"
    assert by_number("M-NONE") == []


def test_lists_of_values_compile_once_per_length(alice, dave):
    build, compilations = counted(
        lambda *ids: Person.objects.filter(pk__in=ids).order_by("last_name", "pk")
    )
    people = PreparedQuery(build)
    both = [alice.person_id, dave.person_id]
    expected = list(Person.objects.filter(pk__in=both).order_by("last_name", "pk"))
    assert [p.pk for p in people(*both)] == [p.pk for p in expected]
    assert [p.pk for p in people(dave.person_id, alice.person_id)] == [p.pk for p in expected]
    assert [p.pk for p in people(alice.person_id)] == [alice.person_id]
    assert len(compilations) == 2  # two values, then one


def test_integer_and_text_values(alice):
    contract = Contract.objects.filter(member=alice).select_related("offer").get()
    by_offer = PreparedQuery(
        lambda offer_id: Guarantee.objects.filter(offer_id=offer_id).order_by("domain")
    )
    found = by_offer(contract.offer_id)
    assert found, "the offer has guarantees"
    assert [fields_of(g) for g in found] == [
        fields_of(g) for g in Guarantee.objects.filter(offer=contract.offer).order_by("domain")
    ]
    assert by_offer(contract.offer_id + 10_000) == []


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda name: Person.objects.filter(last_name__icontains=name), ValueError),
        (lambda name: Person.objects.filter(last_name=name).values("pk"), ValueError),
        (lambda name: Person.objects.filter(last_name=name).prefetch_related("member"), ValueError),
    ],
    ids=["transformed value", "not instances", "prefetching"],
)
def test_what_cannot_be_prepared_is_refused_when_compiled(build, error, alice):
    with pytest.raises(error):
        PreparedQuery(build)("Martin")


def test_a_value_of_another_type_is_refused(alice):
    with pytest.raises(TypeError):
        PreparedQuery(lambda amount: Person.objects.filter(pk=amount))(1.5)


def test_set_prefetched_gives_each_instance_its_own_objects_without_a_query(alice, dave):
    members = PreparedQuery(lambda *ids: Member.objects.filter(pk__in=ids).order_by("pk"))(
        alice.pk, dave.pk
    )
    contracts = list(Contract.objects.filter(member__in=members))
    set_prefetched(members, "contracts", contracts, key=lambda contract: contract.member_id)
    with CaptureQueriesContext(connection) as queries:
        for member in members:
            assert [c.pk for c in member.contracts.all()] == [
                c.pk for c in contracts if c.member_id == member.pk
            ]
    assert len(queries) == 0
    # A further filter on the prefetched objects still reads only the member's own.
    assert {c.member_id for c in members[0].contracts.filter(start_date__isnull=False)} == {
        members[0].pk
    }


def test_a_prepared_insert_writes_the_row_save_would_write(alice):
    from django.db import transaction

    from mutualis import audit
    from mutualis.audit.models import Disclosure
    from mutualis.lib.prepared import PreparedInsert

    insert = PreparedInsert(Disclosure)
    written = []
    for categories in (["identity"], ["identity", "contract"]):
        with transaction.atomic():
            event = audit.record("audit:disclosure:create", subject=alice.person_id)
            disclosure = Disclosure(
                recipient="health_professionals",
                subject_id=str(alice.person_id),
                categories=categories,
                reason="Vérification des droits",
                actor="system",
                event=event,
            )
            with CaptureQueriesContext(connection) as queries:
                assert insert(disclosure) is disclosure
            assert len(queries) == 1
        written.append(disclosure)
    first, second = written
    assert first.pk and second.pk and first.pk != second.pk  # the automatic key, read back
    assert first._state.adding is False and first._state.db == "default"
    for disclosure in written:
        stored = Disclosure.objects.get(pk=disclosure.pk)
        assert fields_of(stored) == fields_of(disclosure)  # the default date included
    with pytest.raises(ValueError, match="new Disclosure rows only"):
        insert(first)
    with pytest.raises(ValueError):
        insert(Person())


def test_a_prepared_insert_refuses_a_model_with_save_signal_receivers(alice):
    from django.db.models.signals import post_save

    from mutualis.audit.models import Disclosure
    from mutualis.lib.prepared import PreparedInsert

    def receiver(**kwargs):
        raise AssertionError("not sent by a prepared insert")

    post_save.connect(receiver, sender=Disclosure, weak=False)
    try:
        with pytest.raises(ValueError, match="signal receivers"):
            PreparedInsert(Disclosure)(Disclosure(subject_id="x", reason="r", actor="system"))
    finally:
        post_save.disconnect(receiver, sender=Disclosure)
