"""The import's row writer: what it stores is what the models and services would store.

These tests run on SQLite and on PostgreSQL (``DATABASE_URL=postgres://...``): the conversion to
database values is the backend's.
"""

from __future__ import annotations

import datetime
import random
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mutualis.billing import services as billing
from mutualis.billing.models import Mandate
from mutualis.contracts.application import check_application
from mutualis.contracts.member_import.rows import Converters, RowWriter, Table
from mutualis.contracts.models import Contract, Offer
from mutualis.contracts.testing import (
    child_of,
    ensure_offers,
    make_application,
    make_person_data,
    spouse_of,
)
from mutualis.members import services as members
from mutualis.members.models import Member, Person
from mutualis.members.testing import make_french_iban
from mutualis.privacy.policy import current_version, publish
from mutualis.vault import services as vault
from mutualis.vault.exceptions import DecryptionError
from mutualis.vault.models import DataKey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offers_and_policy():
    ensure_offers()
    publish()


def writer() -> RowWriter:
    return RowWriter(
        connection,
        offer_ids=dict(Offer.objects.values_list("code", "pk")),
        policy_version_id=current_version().pk,
        creditor_identifier=billing.creditor_identifier(),
    )


def untidy_application(rng: random.Random):
    """Values a legacy file gives: spaces around names, e-mail in capitals, grouped NIR and
    IBAN. A spouse, a child attached to the member's NIR and one with their own NIR."""
    member = make_person_data(
        last_name="  Martin ",
        first_names=" Claire",
        email="Claire.Martin@Example.ORG",
        rng=rng,
        address_line1=" 3 rue des Écoles ",
        city=" Lyon",
        scheme_organisation=" CPAM du Rhône ",
    )
    nir = member.nir
    member.nir = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    iban = make_french_iban(rng)
    application = make_application(
        member=member,
        beneficiaries=[
            spouse_of(member, rng=rng),
            child_of(member, first_names="Léo", attached=True),
            child_of(member, first_names="Zoé", attached=False, age=12, rng=rng),
        ],
        rng=rng,
        legacy_reference="LEG-42",
        start_date=datetime.date(2019, 1, 1),
        cgu_version="2018-03",
    )
    application.payment.iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    application.payment.bic = "bnpa frpp"
    application.payment.debtor_name = " Claire Martin "
    application.payment.signed_place = " Lyon "
    assert check_application(application, imported=True) == []
    return application


def field_values(instance, *, skip: set[str]) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in skip
    }


def test_rows_read_back_through_the_models_as_the_services_build_them():
    application = untidy_application(random.Random(7))
    with transaction.atomic():
        created = writer().write([(application, "A000000042", "C000000042")])

    member = Member.objects.select_related("person").get()
    assert created == [str(member.pk)]
    assert member.number == "A000000042" and member.legacy_reference == "LEG-42"
    assert member.account_id is None
    # Each person as build_person makes them (normalised values, decrypted NIR and birth date),
    # with the blind index pre_save would compute, and a data key of their own.
    skip = {"id", "data_key_id", "nir_holder_id", "nir_index", "created_at", "updated_at"}
    expected = members.build_person(application.member)
    assert field_values(member.person, skip=skip) == field_values(expected, skip=skip)
    assert member.person.nir == expected.nir and " " not in member.person.nir
    nir_index = Person._meta.get_field("nir_index")
    assert member.person.nir_index == nir_index.index_for(expected.nir)
    assert Person.objects.with_nir(application.member.nir).get() == member.person
    # Beneficiaries in the order of the file (the model orders them by added_at).
    beneficiaries = list(member.beneficiaries.select_related("person"))
    assert [b.person.first_names for b in beneficiaries] == ["Paul", "Léo", "Zoé"]
    for beneficiary, item in zip(beneficiaries, application.beneficiaries, strict=True):
        holder = member.person if item.attached_to_member_nir else None
        expected = members.build_person(item.person, nir_holder=holder)
        assert beneficiary.role == item.role
        assert field_values(beneficiary.person, skip=skip - {"nir_holder_id"}) == field_values(
            expected, skip=skip - {"nir_holder_id"}
        )
        assert beneficiary.person.nir_index == nir_index.index_for(expected.nir)
    keys = {p.data_key_id for p in Person.objects.all()}
    assert len(keys) == 4 and DataKey.objects.filter(pk__in=keys).count() == 4
    contract = Contract.objects.get()
    assert contract.member_id == member.pk and contract.number == "C000000042"
    assert contract.offer.code == application.offer_code
    assert contract.start_date == datetime.date(2019, 1, 1) and contract.end_date is None
    assert contract.cgu_version == "2018-03"
    assert contract.policy_version_id == current_version().pk
    assert set(contract.beneficiaries.all()) == set(beneficiaries)
    # The mandate as build_mandate makes it, sealed with the member's key.
    mandate = Mandate.objects.get()
    payment = application.payment
    expected = billing.build_mandate(
        member=member,
        iban=payment.iban,
        bic=payment.bic,
        debtor_name=payment.debtor_name,
        signed_place=payment.signed_place,
    )
    skip = {"id", "reference", "signed_at"}
    assert field_values(mandate, skip=skip) == field_values(expected, skip=skip)
    assert mandate.iban == expected.iban and mandate.bic == "BNPAFRPP"
    assert mandate.data_key_id == member.person.data_key_id
    assert len(mandate.reference) <= 35 and mandate.reference.startswith("RUM-")
    # One instant for the member's rows, in the past few seconds.
    now = timezone.now()
    assert now - datetime.timedelta(minutes=1) < member.joined_at <= now
    assert contract.accepted_at == mandate.signed_at == member.joined_at
    assert member.person.created_at == member.person.updated_at == member.joined_at


def test_sealed_values_are_bound_to_their_row_and_key():
    application = untidy_application(random.Random(8))
    with transaction.atomic():
        writer().write([(application, "A000000043", "C000000043")])
    member = Member.objects.select_related("person").get()
    spouse = member.beneficiaries.get(role="spouse").person
    # The member's NIR ciphertext copied onto the spouse's row does not decrypt there.
    sealed = Person.objects.filter(pk=member.person.pk).values_list("nir", flat=True).get()
    Person.objects.filter(pk=spouse.pk).update(nir=sealed.ciphertext)
    with pytest.raises(DecryptionError):
        _ = Person.objects.get(pk=spouse.pk).nir
    # Shredding the member's key erases their NIR and their IBAN, not the spouse's birth date.
    vault.shred(member.person)
    assert vault.is_erased(Person.objects.get(pk=member.person.pk).nir)
    assert vault.is_erased(Mandate.objects.get().iban)
    assert Person.objects.get(pk=spouse.pk).birth_date == datetime.date(1983, 9, 2)


def test_a_refused_write_keeps_nothing_for_the_next_one():
    rng = random.Random(9)
    first, second = untidy_application(rng), untidy_application(rng)
    second.member.nir = first.member.nir  # the unique blind index refuses it
    second.legacy_reference = "LEG-43"
    rows = writer()
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.write([(first, "A000000001", "C000000001"), (second, "A000000002", "C000000002")])
    assert Member.objects.count() == 0 and DataKey.objects.count() == 0
    with transaction.atomic():
        rows.write([(first, "A000000001", "C000000001")])
    assert Member.objects.get().legacy_reference == "LEG-42"
    assert Person.objects.count() == 4 and Mandate.objects.count() == 1


def _comparable(value):
    """Database parameters compared by content (bytes wrappers differ by backend)."""
    value = getattr(value, "obj", value)  # psycopg's Binary
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


SAMPLES = {
    "UUIDField": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "DateTimeField": datetime.datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=datetime.UTC),
    "DateField": datetime.date(2019, 1, 1),
    "BinaryField": b"\x01\x00sealed",
    "AutoField": 7,
    "BigAutoField": 7,
}


def test_each_column_is_converted_as_the_orm_converts_it():
    converters = Converters(connection)
    for table in writer().tables:
        for name in table.columns:
            field = table.model._meta.get_field(name)
            target = field.target_field if field.is_relation else field
            value = SAMPLES.get(target.get_internal_type(), "texte")  # encrypted: BinaryField
            convert = converters.for_field(field)
            converted = _comparable(value if convert is None else convert(value))
            expected = _comparable(field.get_db_prep_save(value, connection))
            assert converted == expected, f"{table.model._meta.label}.{name}"
            assert type(converted) is type(expected)


def test_a_column_the_model_computes_cannot_be_left_out():
    converters = Converters(connection)
    columns = [c for c in RowWriter.PERSON_COLUMNS if c not in ("updated_at", "nir_index")]
    with pytest.raises(ValueError, match="give a value for nir_index, updated_at"):
        Table(Person, columns, converters)
    # A column with a fixed default may be: it takes the default.
    table = Table(Member, ["id", "person_id", "number", "joined_at"], converters)
    assert table.defaults == (None, None)  # account, legacy_reference
    with pytest.raises(ValueError, match="no column"):
        Table(Member, ["id", "nickname"], converters)


def test_an_iban_checked_already_is_stored_as_a_full_check_would_store_it():
    iban = make_french_iban(random.Random(3))
    for given in (iban, iban.lower(), " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))):
        fields = {"iban": given, "bic": "", "debtor_name": " A ", "signed_place": "Lyon "}
        assert billing.debtor_fields(**fields, checked=True) == billing.debtor_fields(**fields)
