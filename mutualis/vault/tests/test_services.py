from __future__ import annotations

from unittest import mock

import pytest

from mutualis.vault import services
from mutualis.vault.exceptions import DecryptionError, KeyShreddedError
from mutualis.vault.models import DataKey

pytestmark = pytest.mark.django_db


def test_a_data_key_is_stored_wrapped_under_the_current_master_key():
    data_key = services.create_data_key()

    stored = DataKey.objects.get(pk=data_key.pk)

    assert stored.master_key_id == services.master_key_ring().current.id
    assert len(bytes(stored.wrapped_key)) == 1 + 12 + 32 + 16
    assert stored.shredded_at is None and not stored.is_shredded


def test_encrypt_for_and_decrypt_for_round_trip():
    data_key = services.create_data_key()

    blob = services.encrypt_for(data_key, "donnée", b"context")

    assert services.decrypt_for(DataKey.objects.get(pk=data_key.pk), blob, b"context") == (
        "donnée".encode()
    )
    assert services.encrypt_for(data_key, "donnée", b"context") != blob  # random nonce


def test_decrypt_for_refuses_other_associated_data_or_another_key():
    data_key, other = services.create_data_key(), services.create_data_key()
    blob = services.encrypt_for(data_key, b"x", b"context")

    with pytest.raises(DecryptionError):
        services.decrypt_for(data_key, blob, b"other context")
    with pytest.raises(DecryptionError):
        services.decrypt_for(other, blob, b"context")
    with pytest.raises(DecryptionError):
        services.decrypt_for(data_key, blob[:10], b"context")


def test_a_decrypter_decrypts_as_decrypt_for_with_its_key_unwrapped_once():
    data_key, other = services.create_data_key(), services.create_data_key()
    blobs = [services.encrypt_for(data_key, f"valeur {n}", b"context") for n in range(3)]
    foreign = services.encrypt_for(other, b"x", b"context")
    services.clear_key_cache()

    with mock.patch.object(services, "_unwrap_secret", wraps=services._unwrap_secret) as unwrap:
        stored = DataKey.objects.values_list("id", "wrapped_key", "master_key_id")
        decrypt = services.decrypter(*stored.get(pk=data_key.pk))
        found = [decrypt(memoryview(blob), b"context") for blob in blobs]

    assert found == [f"valeur {n}".encode() for n in range(3)]
    assert unwrap.call_count == 1
    with pytest.raises(DecryptionError):
        decrypt(blobs[0], b"other context")
    with pytest.raises(DecryptionError):
        decrypt(foreign, b"context")


def test_no_decrypter_for_a_shredded_key():
    data_key = services.create_data_key()
    services.shred(data_key)

    stored = DataKey.objects.get(pk=data_key.pk)
    with pytest.raises(KeyShreddedError):
        services.decrypter(stored.pk, stored.wrapped_key, stored.master_key_id)


def test_a_wrapped_key_copied_to_another_row_does_not_unwrap():
    data_key, other = services.create_data_key(), services.create_data_key()
    DataKey.objects.filter(pk=other.pk).update(wrapped_key=data_key.wrapped_key)
    services.clear_key_cache()

    with pytest.raises(DecryptionError, match="does not unwrap"):
        services.decrypt_for(DataKey.objects.get(pk=other.pk), b"\x01" + b"\x00" * 40, b"")


def test_unwrapped_keys_are_cached_by_their_wrapped_bytes():
    data_key = services.create_data_key()
    blob = services.encrypt_for(data_key, b"x", b"c")
    services.clear_key_cache()

    with mock.patch.object(services, "_unwrap_secret", wraps=services._unwrap_secret) as unwrap:
        for _ in range(3):
            services.decrypt_for(DataKey.objects.get(pk=data_key.pk), blob, b"c")

    assert unwrap.call_count == 1


def test_the_cache_is_bounded_and_forgets_the_least_recent_key():
    cache = services._cache.__class__(maxsize=2)
    cache.put(("a", "m", b"1"), "A")
    cache.put(("b", "m", b"2"), "B")
    assert cache.get(("a", "m", b"1")) == "A"

    cache.put(("c", "m", b"3"), "C")

    assert cache.get(("b", "m", b"2")) is None
    assert len(cache) == 2


def test_shredding_drops_the_key_from_the_cache():
    data_key = services.create_data_key()
    services.encrypt_for(data_key, b"x", b"c")
    assert any(entry[0] == data_key.pk for entry in services._cache._entries)

    services.shred(data_key)

    assert not any(entry[0] == data_key.pk for entry in services._cache._entries)
