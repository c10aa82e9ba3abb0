from __future__ import annotations

import datetime
import pickle
import uuid

import pytest
from django.db import connection, transaction

from mutualis.vault import services
from mutualis.vault.exceptions import DecryptionError, VaultError
from mutualis.vault.fields import Sealed

pytestmark = pytest.mark.django_db

NIR = "1 85 05 78 006 084 36"


def stored(model, pk, column):
    """The raw bytes of a column, read with plain SQL."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk.hex])  # noqa: S608
        row = cursor.fetchone()
    return None if row[0] is None else bytes(row[0])


def write_raw(model, pk, column, value):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, pk.hex],
        )


def test_round_trip_of_text_and_date(make_person, person_model):
    person = make_person(nir=NIR, birth_date=datetime.date(1985, 5, 17))

    loaded = person_model.objects.get(pk=person.pk)

    assert loaded.nir == NIR
    assert loaded.birth_date == datetime.date(1985, 5, 17)
    assert loaded.iban is None


def test_the_column_holds_ciphertext_not_plaintext(make_person, person_model):
    person = make_person(nir=NIR)

    raw = stored(person_model, person.pk, "nir")

    assert NIR.encode() not in raw
    assert raw[0] == 1  # version byte
    assert len(raw) == 1 + 12 + len(NIR.encode()) + 16


def test_a_loaded_value_stays_sealed_until_read(make_person, person_model):
    person = make_person(nir=NIR)

    loaded = person_model.objects.get(pk=person.pk)

    sealed = loaded.__dict__["nir"]
    assert isinstance(sealed, Sealed) and not sealed.revealed
    assert NIR not in repr(sealed)
    assert loaded.nir == NIR
    assert sealed.revealed


def test_an_unchanged_value_is_written_back_without_reencryption(make_person, person_model):
    person = make_person(nir=NIR)
    before = stored(person_model, person.pk, "nir")

    loaded = person_model.objects.get(pk=person.pk)
    loaded.name = "Autre nom"
    loaded.save()
    assert stored(person_model, person.pk, "nir") == before

    loaded.nir = loaded.nir  # assigning back what was read changes nothing
    loaded.save()
    assert stored(person_model, person.pk, "nir") == before


def test_a_changed_value_is_encrypted_again(make_person, person_model):
    person = make_person(nir=NIR)
    before = stored(person_model, person.pk, "nir")

    person.nir = "2 90 01 75 123 456 78"
    person.save()

    assert stored(person_model, person.pk, "nir") != before
    assert person_model.objects.get(pk=person.pk).nir == "2 90 01 75 123 456 78"


def test_none_stays_none(make_person, person_model):
    person = make_person(nir=None)

    assert stored(person_model, person.pk, "nir") is None
    assert person_model.objects.get(pk=person.pk).nir is None


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(make_person, person_model):
    data_key = services.create_data_key()
    first = make_person(nir=NIR, data_key=data_key)
    second = make_person(nir="2 90 01 75 123 456 78", data_key=data_key)  # same person's key

    write_raw(person_model, second.pk, "nir", stored(person_model, first.pk, "nir"))

    with pytest.raises(DecryptionError, match="moved from another row or column"):
        _ = person_model.objects.get(pk=second.pk).nir


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(make_person, person_model):
    person = make_person(nir=NIR, iban="FR76 3000 6000 0112 3456 7890 189")

    write_raw(person_model, person.pk, "iban", stored(person_model, person.pk, "nir"))

    loaded = person_model.objects.get(pk=person.pk)
    assert loaded.nir == NIR
    with pytest.raises(DecryptionError):
        _ = loaded.iban


def test_a_value_cannot_be_decrypted_with_another_persons_key(make_person, person_model):
    person = make_person(nir=NIR)
    other_key = services.create_data_key()

    person_model.objects.filter(pk=person.pk).update(data_key=other_key)

    with pytest.raises(DecryptionError):
        _ = person_model.objects.get(pk=person.pk).nir


def test_a_tampered_ciphertext_does_not_decrypt(make_person, person_model):
    person = make_person(nir=NIR)
    raw = bytearray(stored(person_model, person.pk, "nir"))
    raw[20] ^= 0x01

    write_raw(person_model, person.pk, "nir", bytes(raw))

    with pytest.raises(DecryptionError):
        _ = person_model.objects.get(pk=person.pk).nir


def test_a_copied_object_with_a_new_primary_key_is_sealed_again(make_person, person_model):
    person = make_person(nir=NIR)
    copy = person_model.objects.get(pk=person.pk)

    copy.pk = uuid.uuid4()
    copy._state.adding = True
    copy.save()

    assert person_model.objects.get(pk=copy.pk).nir == NIR
    assert stored(person_model, copy.pk, "nir") != stored(person_model, person.pk, "nir")


def test_a_deferred_field_loads_as_ciphertext(make_person, person_model):
    person = make_person(nir=NIR)
    before = stored(person_model, person.pk, "nir")

    loaded = person_model.objects.only("name").get(pk=person.pk)
    assert loaded.nir == NIR
    loaded.save()

    assert stored(person_model, person.pk, "nir") == before


def test_bulk_create_encrypts_each_row(person_model):
    keys = [services.build_data_key() for _ in range(3)]
    services.DataKey.objects.bulk_create(keys)
    people = [person_model(data_key=k, nir=f"NIR {i}") for i, k in enumerate(keys)]

    person_model.objects.bulk_create(people)

    assert sorted(p.nir for p in person_model.objects.all()) == ["NIR 0", "NIR 1", "NIR 2"]


def test_plaintext_cannot_be_used_in_a_query(make_person, person_model):
    make_person(nir=NIR)

    with pytest.raises(VaultError, match="encrypted"):
        list(person_model.objects.filter(nir=NIR))
    with pytest.raises(VaultError, match="encrypted"), transaction.atomic():
        person_model.objects.update(nir=NIR)
    assert person_model.objects.filter(nir__isnull=False).count() == 1


def test_saving_without_a_data_key_is_refused(person_model):
    with pytest.raises(VaultError, match="set data_key"):
        person_model(nir=NIR).save()


def test_pickling_keeps_the_ciphertext_but_never_the_plaintext(make_person, person_model):
    person = make_person(nir=NIR)
    loaded = person_model.objects.get(pk=person.pk)
    assert loaded.nir == NIR

    data = pickle.dumps(loaded)

    assert NIR.encode() not in data
    assert pickle.loads(data).nir == NIR  # noqa: S301


def test_a_bad_date_is_a_validation_error(make_person, person_model):
    from django.core.exceptions import ValidationError

    person = make_person()
    person.birth_date = "17/05/1985"

    with pytest.raises(ValidationError):
        person.full_clean()


def test_full_clean_of_a_loaded_row_keeps_its_ciphertext(make_person, person_model):
    person = make_person(nir=NIR, birth_date=datetime.date(1985, 5, 17))
    before = stored(person_model, person.pk, "birth_date")
    loaded = person_model.objects.get(pk=person.pk)

    loaded.full_clean()
    loaded.save()

    assert stored(person_model, person.pk, "birth_date") == before


def test_the_privacy_check_sees_the_encrypted_fields(person_model):
    from mutualis.privacy.checks import check_declaration

    assert check_declaration() == []


def test_refresh_from_db_reads_the_stored_value(make_person, person_model):
    person = make_person(nir=NIR)
    other = person_model.objects.get(pk=person.pk)
    other.nir = "2 90 01 75 123 456 78"
    other.save()

    person.refresh_from_db()

    assert person.nir == "2 90 01 75 123 456 78"


def test_a_model_form_that_changes_nothing_keeps_the_ciphertext(make_person, person_model):
    from django import forms

    class PersonForm(forms.ModelForm):
        class Meta:
            model = person_model
            fields = ["name", "nir", "birth_date"]

    person = make_person(nir=NIR, birth_date=datetime.date(1985, 5, 17))
    before = stored(person_model, person.pk, "nir"), stored(person_model, person.pk, "birth_date")
    loaded = person_model.objects.get(pk=person.pk)
    initial = PersonForm(instance=loaded).initial

    form = PersonForm(data={**initial, "name": "Nouveau"}, instance=loaded)
    assert form.is_valid(), form.errors
    form.save()

    after = stored(person_model, person.pk, "nir"), stored(person_model, person.pk, "birth_date")
    assert after == before
    assert initial["nir"] == NIR
