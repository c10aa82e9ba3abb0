"""Backups without the key store, key-store backups, and restores that replay the erasures."""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import secrets
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from mutualis.audit.models import Event
from mutualis.members.models import Civility, Person
from mutualis.members.testing import make_nir
from mutualis.vault import backup_file, services
from mutualis.vault.backup import (
    content_hash,
    data_tables,
    decode_value,
    encode_value,
    replaced_tables,
    table_digests,
)
from mutualis.vault.backup_file import BackupReader
from mutualis.vault.checks import check_backup_keys
from mutualis.vault.erased import is_erased
from mutualis.vault.keys import backup_key_ring
from mutualis.vault.models import DataKey, ShredRecord
from mutualis.vault.tags import VaultTag

RESTORE_TAG = str(VaultTag.BACKUP_RESTORE)


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def backup(tmp_path: Path, name: str = "donnees") -> Path:
    path = tmp_path / f"{name}.bak"
    run("backup", str(path))
    return path


def backup_keys(tmp_path: Path, name: str = "cles") -> Path:
    path = tmp_path / f"{name}.bak"
    run("backup_keys", str(path))
    return path


def restore(data: Path, keys: Path) -> str:
    return run("restore", str(data), str(keys), "--yes")


def state() -> dict[str, dict]:
    """Every table a restore replaces, key store included: rows and hash of each."""
    return {entry["name"]: entry for entry in table_digests(replaced_tables())}


def reload(person: Person) -> Person:
    services.clear_key_cache()
    return Person.objects.get(pk=person.pk)


@pytest.fixture
def vault_alone():
    """The vault's part of a restore, seen before the domain forgets the people whose keys the
    replay destroys (``mutualis.rights.forget``, tested with the rights)."""
    from mutualis.rights.forget import forget_replayed
    from mutualis.vault.signals import erasure_replayed

    erasure_replayed.disconnect(dispatch_uid="rights.forget_replayed")
    yield
    erasure_replayed.connect(forget_replayed, dispatch_uid="rights.forget_replayed")


@pytest.fixture
def files(tmp_path, alice, dave):
    """A data backup and a key-store backup of alice and dave."""
    return backup(tmp_path), backup_keys(tmp_path)


# --- The two scenarios of the design --------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_person_erased_after_the_backup_stays_erased_after_restoring_it(
    vault_alone, tmp_path, alice, dave
):
    alice_nir, dave_nir = alice.person.nir, dave.person.nir
    data, keys = backup(tmp_path), backup_keys(tmp_path)
    services.shred(alice.person)
    erased_at = ShredRecord.objects.get(data_key_id=alice.person.data_key_id).shredded_at

    output = restore(data, keys)

    assert "dont 1 clé revenue intacte et détruite à nouveau" in output
    restored_alice, restored_dave = reload(alice.person), reload(dave.person)
    assert is_erased(restored_alice.nir) and is_erased(restored_alice.birth_date)
    assert restored_alice.nir_index is None  # the blind index is derived data: cleared too
    assert ShredRecord.objects.get(data_key_id=alice.person.data_key_id).shredded_at == erased_at
    assert DataKey.objects.get(pk=alice.person.data_key_id).wrapped_key is None
    assert restored_dave.nir == dave_nir != alice_nir
    assert not is_erased(restored_dave.birth_date)


@pytest.mark.django_db(transaction=True)
def test_a_restore_with_no_erasure_since_loses_nothing(tmp_path, alice, dave):
    before = state()
    events_before = list(Event.objects.order_by("id").values_list("id", "mac"))
    data, keys = backup(tmp_path), backup_keys(tmp_path)

    assert header_of(data)["content_sha256"] == content_hash(before[t.name] for t in data_tables())

    restore(data, keys)

    after = state()
    assert set(after) == set(before)
    audit_tables = {"audit_event", "audit_chainhead", "audit_chainlink"}
    for name in before.keys() - audit_tables:
        assert after[name] == before[name], name
    assert content_hash(after[n] for n in sorted(before.keys() - audit_tables)) == content_hash(
        before[n] for n in sorted(before.keys() - audit_tables)
    )
    # The audit chain is the backup's, plus the restore event.
    assert after["audit_event"]["rows"] == before["audit_event"]["rows"] + 1
    events_after = list(Event.objects.order_by("id").values_list("id", "mac"))
    assert events_after[:-1] == events_before
    assert Event.objects.latest("id").tag == RESTORE_TAG
    assert reload(alice.person).nir == alice.person.nir


@pytest.mark.django_db(transaction=True)
def test_the_audit_chain_verifies_after_a_restore_which_it_records(tmp_path, alice):
    data, keys = backup(tmp_path), backup_keys(tmp_path)
    services.shred(alice.person)

    restore(data, keys)

    assert "intègre" in run("audit_verify")
    event = Event.objects.latest("id")
    assert event.tag == RESTORE_TAG
    assert event.details["replayed"] == 1
    assert event.details["rows"] == sum(t["rows"] for t in header_of(data)["tables"])
    assert event.details["previous_head_seq"] > event.details["restored_head_seq"]


def header_of(path: Path) -> dict:
    return BackupReader(path, kind="data", ring=backup_key_ring()).header


# --- Keys and the journal -------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_key_file_written_after_the_erasure_keeps_the_person_erased(
    vault_alone, tmp_path, alice, dave
):
    data = backup(tmp_path)
    services.shred(alice.person)
    keys = backup_keys(tmp_path)  # alice's key is already destroyed in it

    restore(data, keys)

    restored = reload(alice.person)
    assert is_erased(restored.nir)
    assert restored.nir_index is None  # restored from before the erasure, cleared by the replay
    assert ShredRecord.objects.filter(data_key_id=alice.person.data_key_id).count() == 1
    assert reload(dave.person).nir == dave.person.nir


def _lone_person() -> Person:
    """A person without contract (as left once their records are gone)."""
    born = datetime.date(1970, 1, 1)
    return Person.objects.create(
        data_key=services.create_data_key(),
        civility=Civility.MRS,
        last_name="Seule",
        first_names="Sans contrat",
        birth_date=born,
        nir=make_nir(civility=Civility.MRS, birth_date=born),
    )


@pytest.mark.django_db(transaction=True)
def test_a_key_deleted_since_the_backup_comes_back_destroyed(vault_alone, tmp_path, alice):
    person = _lone_person()
    data = backup(tmp_path)
    # As the retention engine does for a person no record refers to: shred, delete, drop the key.
    services.shred(person)
    key_id = person.data_key_id
    Person.objects.filter(pk=person.pk).delete()
    DataKey.objects.filter(pk=key_id).delete()
    keys = backup_keys(tmp_path)

    restore(data, keys)

    restored = reload(person)
    assert is_erased(restored.nir) and is_erased(restored.birth_date)
    assert DataKey.objects.get(pk=key_id).wrapped_key is None
    assert ShredRecord.objects.filter(data_key_id=key_id).exists()


@pytest.mark.django_db
def test_replaying_an_erasure_destroys_the_key_once_and_journals_it_once(alice):
    key_id = alice.person.data_key_id
    when = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

    assert services.replay_shred(key_id, when) is True
    assert services.replay_shred(key_id, when) is False

    assert list(ShredRecord.objects.values_list("data_key_id", "shredded_at")) == [(key_id, when)]
    assert is_erased(reload(alice.person).nir)


@pytest.mark.django_db
def test_a_key_file_older_than_the_backup_is_refused_as_not_matching(tmp_path, alice):
    keys = backup_keys(tmp_path)
    _lone_person()  # a key the older key file lacks
    data = backup(tmp_path)
    before = state()

    with pytest.raises(CommandError, match="ne correspondent pas"):
        restore(data, keys)

    assert state() == before


# --- Refusals: the database is left as it was ------------------------------------------------
@pytest.mark.django_db
def test_a_restore_without_yes_only_verifies_the_files(files):
    data, keys = files
    before = state()

    with pytest.raises(CommandError, match="sans --yes"):
        run("restore", str(data), str(keys))

    assert state() == before


def _flip(path: Path, offset: int) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda size: 20, "altéré"),  # inside the header
        (lambda size: size // 2, "altéré"),  # inside a frame
        (lambda size: size - 1, "altéré"),  # the last frame's tag
    ],
    ids=["header", "frame", "last-tag"],
)
def test_an_altered_byte_is_refused(files, where, message):
    data, keys = files
    _flip(data, where(data.stat().st_size))
    before = state()

    with pytest.raises(CommandError, match=message):
        restore(data, keys)

    assert state() == before


@pytest.mark.django_db
def test_an_altered_key_file_is_refused(files):
    data, keys = files
    _flip(keys, keys.stat().st_size - 30)
    before = state()

    with pytest.raises(CommandError, match="altéré"):
        restore(data, keys)

    assert state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("cut", [1, 200])
def test_a_truncated_file_is_refused(files, cut):
    data, keys = files
    data.write_bytes(data.read_bytes()[:-cut])
    before = state()

    with pytest.raises(CommandError, match="tronqué"):
        restore(data, keys)

    assert state() == before


@pytest.mark.django_db
def test_bytes_after_the_last_frame_are_refused(files):
    data, keys = files
    data.write_bytes(data.read_bytes() + b"\x00" * 32)

    with pytest.raises(CommandError, match="après le dernier bloc"):
        restore(data, keys)


def _frames(content: bytes, start: int) -> list[bytes]:
    frames, offset = [], start
    while offset < len(content):
        length = int.from_bytes(content[offset : offset + 4], "big")
        end = offset + 4 + backup_file.NONCE_BYTES + length
        frames.append(content[offset:end])
        offset = end
    return frames


@pytest.mark.django_db
def test_reordered_or_dropped_frames_are_refused(tmp_path, alice, monkeypatch):
    monkeypatch.setattr(backup_file, "FRAME_BYTES", 512)
    data, keys = backup(tmp_path), backup_keys(tmp_path)
    content = data.read_bytes()
    header_length = int.from_bytes(content[8:12], "big")
    start = 12 + header_length + backup_file.NONCE_BYTES + backup_file.TAG_BYTES
    frames = _frames(content, start)
    assert len(frames) > 3

    swapped = [frames[0], frames[2], frames[1], *frames[3:]]
    data.write_bytes(content[:start] + b"".join(swapped))
    with pytest.raises(CommandError, match="ne s'authentifie pas"):
        restore(data, keys)

    data.write_bytes(content[:start] + b"".join(frames[:-1]))  # the last frame dropped
    with pytest.raises(CommandError, match="tronqué"):
        restore(data, keys)


@pytest.mark.django_db
def test_a_backup_under_another_key_is_refused_as_a_wrong_key(files):
    data, keys = files
    with (
        override_settings(MUTUALIS_BACKUP_KEYS_RAW=new_key()),
        pytest.raises(CommandError, match="mauvaise clé"),
    ):
        restore(data, keys)


@pytest.mark.django_db
def test_an_older_backup_key_still_reads_after_a_rotation(settings, files):
    data, keys = files
    settings.MUTUALIS_BACKUP_KEYS_RAW = f"{new_key()},{settings.MUTUALIS_BACKUP_KEYS_RAW}"

    assert "Restauration terminée" in restore(data, keys)


@pytest.mark.django_db
def test_swapped_files_are_refused(files):
    data, keys = files

    with pytest.raises(CommandError, match="inversés"):
        restore(keys, data)


# --- What the files hold ---------------------------------------------------------------------
def _content(path: Path, kind: str) -> bytes:
    return b"\n".join(BackupReader(path, kind=kind, ring=backup_key_ring()).lines())


@pytest.mark.django_db
def test_the_data_backup_holds_ciphertext_and_no_key_store(files, alice):
    data, keys = files
    header = header_of(data)
    names = {t["name"] for t in header["tables"]}
    content = _content(data, "data")

    assert "vault_datakey" not in names and "django_session" not in names
    assert {"members_person", "vault_shredrecord", "audit_event"} <= names
    assert names == {t.name for t in data_tables()}
    assert data.stat().st_mode & 0o777 == keys.stat().st_mode & 0o777 == 0o600
    assert header["vendor"] and header["migrations"] and header["content_sha256"]
    assert alice.person.nir.encode() not in content
    assert alice.person.last_name.encode() in content  # clear fields stay clear, as in the base
    wrapped = base64.b64encode(bytes(DataKey.objects.get(pk=alice.person.data_key_id).wrapped_key))
    assert wrapped not in content
    assert wrapped in _content(keys, "keys")


@pytest.mark.django_db
def test_backups_are_audited(files):
    tags = list(Event.objects.order_by("-id").values_list("tag", flat=True)[:2])

    assert tags == [VaultTag.KEYSTORE_BACKUP, VaultTag.BACKUP_CREATE]


@pytest.mark.django_db
def test_a_backup_never_overwrites_a_file(files):
    data, _keys = files
    before = data.read_bytes()

    with pytest.raises(CommandError, match="existe déjà"):
        run("backup", str(data))

    assert data.read_bytes() == before


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**62),
        1.5,
        float("inf"),
        "Élise\nO'Brien",
        b"\x00\xffciphertext",
        memoryview(b"\x01\x02"),
        decimal.Decimal("18.50"),
        datetime.datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        datetime.datetime(2030, 1, 2, 3, 4, 5),
        datetime.date(2030, 1, 2),
        datetime.time(3, 4, 5, 6),
        datetime.timedelta(days=-1, seconds=5, microseconds=7),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        {"a": [1, "b"]},
    ],
)
def test_every_column_value_survives_the_encoding(value):
    decoded = decode_value(encode_value(value))

    expected = bytes(value) if isinstance(value, memoryview) else value
    assert decoded == expected and type(decoded) is type(expected)


# --- Configuration ---------------------------------------------------------------------------
def _check_ids() -> list[str]:
    return [e.id for e in check_backup_keys()]


def test_the_check_rejects_a_malformed_backup_key():
    with override_settings(MUTUALIS_BACKUP_KEYS_RAW="abc"):
        assert _check_ids() == ["vault.E006"]


def test_the_check_rejects_a_backup_key_that_is_also_a_master_key():
    key = new_key()

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=key, MUTUALIS_BACKUP_KEYS_RAW=key):
        assert _check_ids() == ["vault.E007"]


@pytest.mark.django_db
def test_without_a_backup_key_the_commands_refuse_and_the_checks_pass(tmp_path, files):
    data, keys = files
    with override_settings(MUTUALIS_BACKUP_KEYS_RAW=""):
        assert _check_ids() == []
        with pytest.raises(CommandError, match="Clé de sauvegarde absente"):
            run("backup", str(tmp_path / "x.bak"))
        with pytest.raises(CommandError, match="Clé de sauvegarde absente"):
            restore(data, keys)
