"""``generate_members``: bulk members that read back through the models exactly as real ones."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from stdnum import iban
from stdnum.fr import nir

from mutualis.audit.verify import verify_chain
from mutualis.billing.models import Mandate
from mutualis.members.models import Member, Person
from mutualis.privacy import promises
from mutualis.rights.export import build_access_export

pytestmark = pytest.mark.django_db


def generate(n: int, **options) -> str:
    out = StringIO()
    call_command("generate_members", "--members", str(n), stdout=out, **options)
    return out.getvalue()


def test_generated_members_are_encrypted_as_the_models_do_and_read_back(settings):
    settings.DEBUG = True
    output = generate(30)

    assert "30 adhérents générés" in output
    assert Member.objects.count() == 30
    for member in Member.objects.select_related("person"):
        person = member.person
        assert nir.is_valid(person.nir)
        assert Person.objects.with_nir(person.nir).get() == person  # blind index
        assert person.birth_date.year >= 1950
    assert all(iban.is_valid(m.iban) for m in Mandate.objects.all())
    assert verify_chain().ok
    assert [r.breaches for r in promises.run() if r.breaches] == []


def test_a_second_run_adds_members_beside_the_first(settings):
    settings.DEBUG = True
    generate(10)
    generate(10, seed=7)

    assert Member.objects.count() == 20
    assert verify_chain().ok


def test_a_generated_member_has_an_access_copy_with_their_history(settings):
    settings.DEBUG = True
    generate(5)
    member = Member.objects.select_related("person").first()

    export = build_access_export(member.person)
    assert export["subject"]["id"] == str(member.person.pk)
    assert export["audit_log"]["events"]


def test_it_refuses_a_production_configuration_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG est désactivé"):
        generate(1)
    assert not Member.objects.exists()
    generate(1, force=True)
    assert Member.objects.count() == 1


@pytest.mark.parametrize("count", ["0", "-3", "10000001"])
def test_it_refuses_a_number_of_members_out_of_range(settings, count):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="--members doit être compris entre 1 et"):
        call_command("generate_members", "--members", count)


def test_members_are_committed_a_chunk_at_a_time_beside_live_writers(monkeypatch):
    """Between chunks other writers go on (an audit event, an account): nothing collides and the
    chain stays whole."""
    from mutualis import generate as generator
    from mutualis.audit import services as audit
    from mutualis.members.models import User, UserKind

    monkeypatch.setattr(generator, "CHUNK", 4)
    done: list[int] = []

    def between_chunks(count: int) -> None:
        done.append(count)
        with transaction.atomic():
            audit.record("test:generation:between_chunks", details={"after": count})
            User.objects.create_user(f"live{count}@example.org", kind=UserKind.STAFF)

    generator.generate(10, progress=between_chunks)

    assert done == [4, 8, 10]
    assert Member.objects.count() == 10
    result = verify_chain()
    assert result.ok, result


def test_an_interrupted_run_keeps_its_whole_chunks_and_nothing_of_the_broken_one(monkeypatch):
    from mutualis import generate as generator
    from mutualis.audit.models import Event
    from mutualis.generate.members import MemberBuilder

    monkeypatch.setattr(generator, "CHUNK", 4)
    original = MemberBuilder.member
    calls = 0

    def member_then_fail(self) -> None:
        nonlocal calls
        calls += 1
        if calls == 7:  # inside the second chunk
            raise RuntimeError("interrupted")
        original(self)

    monkeypatch.setattr(MemberBuilder, "member", member_then_fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        generator.generate(10)

    assert Member.objects.count() == 4
    members = set(Member.objects.values_list("person_id", flat=True))
    persons = set(Person.objects.values_list("pk", flat=True))
    # Beneficiaries are persons too: every person left belongs to one of the four households.
    assert members <= persons
    subjects = set(Event.objects.exclude(subject_id="").values_list("subject_id", flat=True))
    assert subjects <= {str(pk) for pk in persons}
    result = verify_chain()
    assert result.ok, result
