from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from mutualis.vault import services
from mutualis.vault.exceptions import UnknownMasterKeyError
from mutualis.vault.keys import master_key_ring
from mutualis.vault.models import DataKey
from mutualis.vault.tests.conftest import new_key

pytestmark = pytest.mark.django_db

COMMAND = "mutualis.vault.management.commands.rotate_master_key"


@pytest.fixture
def keys():
    return {"old": new_key(), "new": new_key()}


@pytest.fixture
def people(keys, make_person):
    """Five people sealed under the old master key, and one shredded person."""
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=keys["old"]):
        created = [make_person(nir=f"NIR {i}") for i in range(5)]
        services.shred(make_person(nir="effacé"))
    return created


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_master_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def pending() -> int:
    current = master_key_ring().current.id
    return DataKey.objects.filter(wrapped_key__isnull=False).exclude(master_key_id=current).count()


def nirs(person_model, people) -> list[str]:
    services.clear_key_cache()
    return [person_model.objects.get(pk=p.pk).nir for p in people]


def test_rotation_rewraps_every_key_and_old_keys_can_then_be_removed(keys, people, person_model):
    expected = [f"NIR {i}" for i in range(5)]
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=f"{keys['new']},{keys['old']}"):
        assert nirs(person_model, people) == expected  # old key still listed: still readable
        assert pending() == 5

        output = rotate("--batch-size", "2")

        assert pending() == 0
        assert "Clés rechiffrées : 5" in output
        assert "Clés restant à rechiffrer : 0" in output
        assert DataKey.objects.filter(wrapped_key__isnull=True).count() == 1  # still shredded
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=keys["new"]):
        assert nirs(person_model, people) == expected


def test_removing_the_old_key_before_rotation_stops_reading(keys, people, person_model):
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=f"{keys['new']},{keys['old']}"):
        assert nirs(person_model, people)[0] == "NIR 0"  # the unwrapped key is now cached
    with (
        override_settings(MUTUALIS_MASTER_KEYS_RAW=keys["new"]),
        pytest.raises(UnknownMasterKeyError, match="rotate_master_key"),
    ):
        _ = person_model.objects.get(pk=people[0].pk).nir


def test_a_limited_run_stops_and_a_rerun_completes(keys, people, person_model):
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=f"{keys['new']},{keys['old']}"):
        output = rotate("--batch-size", "2", "--limit", "3")
        assert "Clés rechiffrées : 3" in output
        assert "Rotation incomplète" in output
        assert pending() == 2

        output = rotate("--batch-size", "2")
        assert "Clés rechiffrées : 2" in output
        assert pending() == 0
        assert "Rotation terminée" in output

        assert "Clés rechiffrées : 0" in rotate()  # nothing left: a rerun is harmless
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=keys["new"]):
        assert nirs(person_model, people) == [f"NIR {i}" for i in range(5)]


def test_an_interrupted_run_keeps_its_finished_batches_and_resumes(keys, people, person_model):
    real_rewrap = services.rewrap
    calls = 0

    def failing_on_third(data_key):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise UnknownMasterKeyError("simulated crash")
        return real_rewrap(data_key)

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=f"{keys['new']},{keys['old']}"):
        with mock.patch(f"{COMMAND}.rewrap", failing_on_third), pytest.raises(CommandError):
            rotate("--batch-size", "2")
        assert pending() == 3  # the first batch was committed, the second rolled back

        rotate("--batch-size", "2")
        assert pending() == 0
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=keys["new"]):
        assert nirs(person_model, people) == [f"NIR {i}" for i in range(5)]


def test_a_key_shredded_during_rotation_is_not_brought_back(keys, people):
    real_rewrap = services.rewrap

    def shred_first(data_key):
        if data_key.pk == people[0].data_key_id:
            DataKey.objects.filter(pk=data_key.pk).update(wrapped_key=None)
        return real_rewrap(data_key)

    with (
        override_settings(MUTUALIS_MASTER_KEYS_RAW=f"{keys['new']},{keys['old']}"),
        mock.patch(f"{COMMAND}.rewrap", shred_first),
    ):
        output = rotate()

    assert "Clés rechiffrées : 4" in output
    assert DataKey.objects.get(pk=people[0].data_key_id).wrapped_key is None


def test_the_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="--batch-size"):
        rotate("--batch-size", "0")
