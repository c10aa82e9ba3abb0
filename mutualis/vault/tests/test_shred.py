from __future__ import annotations

import copy
import datetime
import pickle

import pytest
from django.template import engines

from mutualis.vault import services
from mutualis.vault.erased import ERASED, ERASED_TEXT, is_erased
from mutualis.vault.exceptions import KeyShreddedError
from mutualis.vault.models import DataKey, ShredRecord

pytestmark = pytest.mark.django_db

NIR = "1 85 05 78 006 084 36"


def test_after_shredding_every_encrypted_value_reads_as_erased(make_person, person_model):
    person = make_person(nir=NIR, iban="FR76 3000", birth_date=datetime.date(1985, 5, 17))

    services.shred(person)

    loaded = person_model.objects.get(pk=person.pk)
    assert loaded.nir is ERASED
    assert loaded.iban is ERASED
    assert loaded.birth_date is ERASED
    assert loaded.name == ""  # clear fields are untouched


def test_the_shredded_instance_in_memory_reads_as_erased_too(make_person):
    person = make_person(nir=NIR)
    assert person.nir == NIR

    services.shred(person)

    assert is_erased(person.nir)


def test_shredding_destroys_the_wrapped_key_and_journals_it(make_person):
    person = make_person(nir=NIR)

    data_key = services.shred(person.data_key)

    stored = DataKey.objects.get(pk=person.data_key_id)
    assert stored.wrapped_key is None and stored.is_shredded
    assert stored.shredded_at == data_key.shredded_at
    record = ShredRecord.objects.get()
    assert record.data_key_id == person.data_key_id
    assert record.shredded_at == stored.shredded_at


def test_shredding_twice_journals_once(make_person):
    person = make_person(nir=NIR)

    services.shred(person)
    services.shred(person)

    assert ShredRecord.objects.count() == 1


def test_shredding_one_person_leaves_the_others_readable(make_person, person_model):
    erased = make_person(nir=NIR)
    kept = make_person(nir="2 90 01 75 123 456 78")

    services.shred(erased)

    assert person_model.objects.get(pk=kept.pk).nir == "2 90 01 75 123 456 78"


def test_a_template_renders_an_erased_value(make_person, person_model):
    person = make_person(nir=NIR, birth_date=datetime.date(1985, 5, 17))
    services.shred(person)
    template = engines["django"].from_string(
        "{{ p.nir }}|{{ p.nir|upper }}|{{ p.birth_date }}|{{ p.birth_date|date:'d/m/Y' }}"
    )

    html = template.render({"p": person_model.objects.get(pk=person.pk)})

    assert html.startswith(f"{ERASED_TEXT}|{ERASED_TEXT.upper()}|{ERASED_TEXT}|")


def test_shredding_clears_the_blind_index(make_person, person_model):
    person = make_person(nir=NIR)
    assert person_model.objects.get(pk=person.pk).nir_index

    services.shred(person)

    assert person_model.objects.get(pk=person.pk).nir_index is None


def test_no_new_data_can_be_written_for_a_shredded_person(make_person, person_model):
    person = make_person(nir=NIR)
    services.shred(person)
    loaded = person_model.objects.get(pk=person.pk)

    loaded.nir = "2 90 01 75 123 456 78"

    with pytest.raises(KeyShreddedError):
        loaded.save()


def test_a_shredded_row_can_still_be_saved_unchanged(make_person, person_model):
    person = make_person(nir=NIR)
    services.shred(person)
    loaded = person_model.objects.get(pk=person.pk)
    assert loaded.nir is ERASED

    loaded.nir = loaded.nir
    loaded.name = "Anonyme"
    loaded.save()

    assert person_model.objects.get(pk=person.pk).nir is ERASED


def test_the_low_level_helpers_refuse_a_shredded_key(make_person):
    data_key = services.create_data_key()
    blob = services.encrypt_for(data_key, b"secret", b"context")

    services.shred(data_key)

    fresh = DataKey.objects.get(pk=data_key.pk)
    with pytest.raises(KeyShreddedError):
        services.decrypt_for(fresh, blob, b"context")
    with pytest.raises(KeyShreddedError):
        services.decrypt_for(data_key, blob, b"context")  # the object passed in is updated


def test_replaying_the_journal_shreds_a_restored_key(make_person, person_model):
    person = make_person(nir=NIR)
    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

    assert services.replay_shred(person.data_key_id, when) is True
    assert services.replay_shred(person.data_key_id, when) is False

    assert person_model.objects.get(pk=person.pk).nir is ERASED


def test_the_erased_marker_is_a_string_that_survives_copies():
    assert isinstance(ERASED, str)
    assert str(ERASED) == "[donnée effacée]"
    assert copy.deepcopy(ERASED) is ERASED
    assert pickle.loads(pickle.dumps(ERASED)) is ERASED  # noqa: S301
    assert not is_erased("[donnée effacée]")
