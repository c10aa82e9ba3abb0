"""``generate_members``: bulk members that read back through the models exactly as real ones."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
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
