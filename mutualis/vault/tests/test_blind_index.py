from __future__ import annotations

import pytest
from django.test import override_settings

from mutualis.vault.blind_index import blind_index, compact_upper
from mutualis.vault.tests.conftest import new_key
from mutualis.vault.tests.models_for_tests import Person

NIR = "1 85 05 78 006 084 36"


def test_blind_index_is_deterministic_hex_sha256():
    first = blind_index("185057800608436", purpose="nir")

    assert first == blind_index("185057800608436", purpose="nir")
    assert len(first) == 64 and int(first, 16) >= 0


def test_blind_index_differs_per_purpose():
    assert blind_index("X", purpose="nir") != blind_index("X", purpose="iban")


def test_blind_index_differs_per_key():
    with override_settings(MUTUALIS_BLIND_INDEX_KEY_RAW=new_key()):
        first = blind_index("X", purpose="nir")
    with override_settings(MUTUALIS_BLIND_INDEX_KEY_RAW=new_key()):
        second = blind_index("X", purpose="nir")

    assert first != second


def test_blind_index_needs_a_purpose():
    with pytest.raises(ValueError, match="purpose"):
        blind_index("X", purpose="")


def test_compact_upper_removes_spaces_and_upper_cases():
    assert compact_upper(" 2a 90 01\t75 ") == "2A900175"


@pytest.mark.django_db
def test_the_field_indexes_the_normalised_plaintext(make_person, person_model):
    person = make_person(nir=NIR)
    field = person_model._meta.get_field("nir_index")

    assert person.nir_index == blind_index("185057800608436", purpose="nir")
    assert field.index_for("185 057 800 608 436") == person.nir_index
    found = person_model.objects.get(nir_index=field.index_for("1850578006 08436"))
    assert found.pk == person.pk


@pytest.mark.django_db
def test_the_field_follows_changes_and_none(make_person, person_model):
    person = make_person(nir=NIR)
    field = person_model._meta.get_field("nir_index")

    person.nir = "2 90 01 75 123 456 78"
    person.save()
    assert person_model.objects.get(pk=person.pk).nir_index == field.index_for(person.nir)

    loaded = person_model.objects.get(pk=person.pk)
    loaded.nir = None
    loaded.save()
    assert person_model.objects.get(pk=person.pk).nir_index is None


@pytest.mark.django_db
def test_saving_an_unread_row_does_not_decrypt_for_the_index(make_person, person_model):
    person = make_person(nir=NIR)
    loaded = person_model.objects.get(pk=person.pk)

    loaded.save()

    assert not loaded.__dict__["nir"].revealed
    assert person_model.objects.get(pk=person.pk).nir_index == person.nir_index


def test_the_index_field_is_not_encrypted():
    assert Person._meta.get_field("nir_index").is_encrypted is False
    assert Person._meta.get_field("nir").is_encrypted is True
