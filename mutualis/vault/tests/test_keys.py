from __future__ import annotations

import base64
import hashlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from mutualis.vault import keys
from mutualis.vault.checks import check_keys
from mutualis.vault.tests.conftest import new_key


def ids(errors):
    return [e.id for e in errors]


def test_the_first_master_key_is_current_and_all_are_accepted():
    first, second = new_key(), new_key()

    ring = keys.parse_master_keys(f"{first}, {second}")

    assert ring.current.id == hashlib.sha256(base64.urlsafe_b64decode(first)).hexdigest()[:16]
    assert len(ring.current.id) == 16
    assert set(ring.ids) == {ring.current.id, keys.key_id(base64.urlsafe_b64decode(second))}


def test_a_key_without_padding_is_accepted():
    key = new_key()

    assert keys.parse_master_keys(key.rstrip("=")).current.id == (
        keys.parse_master_keys(key).current.id
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "No master key is configured"),
        ("not base64!", "key #1 is not url-safe base64"),
        (base64.urlsafe_b64encode(b"x" * 16).decode(), "key #1 decodes to 16 bytes"),
        (base64.b64encode(b"\xfb" * 32).decode(), "key #1 is not url-safe base64"),
        ("{k},", "key #2 is empty"),
        ("{k},{k}", "key #2 repeats an earlier key"),
    ],
)
def test_a_malformed_master_key_is_improperly_configured(raw, message):
    key = new_key()
    raw = raw.replace("{k}", key)

    with pytest.raises(ImproperlyConfigured, match=message) as exc_info:
        keys.parse_master_keys(raw)

    assert key not in str(exc_info.value)  # a key is never echoed


def test_key_parsing_follows_the_settings():
    first, second = new_key(), new_key()

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=first):
        one = keys.master_key_ring().current.id
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=second):
        two = keys.master_key_ring().current.id

    assert one != two


def test_the_checks_pass_with_valid_keys():
    with override_settings(
        MUTUALIS_MASTER_KEYS_RAW=f"{new_key()},{new_key()}", MUTUALIS_BLIND_INDEX_KEY_RAW=new_key()
    ):
        assert check_keys() == []


def test_the_check_asks_for_a_master_key_when_none_is_set():
    with override_settings(MUTUALIS_MASTER_KEYS_RAW="", MUTUALIS_BLIND_INDEX_KEY_RAW=new_key()):
        errors = check_keys()

    assert ids(errors) == ["vault.E001"]
    assert "Set MUTUALIS_MASTER_KEY or MUTUALIS_MASTER_KEY_FILE" in errors[0].msg


def test_the_check_rejects_a_malformed_master_key():
    short = base64.urlsafe_b64encode(b"k" * 31).decode()

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=short, MUTUALIS_BLIND_INDEX_KEY_RAW=new_key()):
        errors = check_keys()

    assert ids(errors) == ["vault.E002"]
    assert "decodes to 31 bytes" in errors[0].msg
    assert "Set MUTUALIS_MASTER_KEY or MUTUALIS_MASTER_KEY_FILE" in errors[0].msg


def test_the_check_asks_for_a_blind_index_key():
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=new_key(), MUTUALIS_BLIND_INDEX_KEY_RAW=""):
        errors = check_keys()

    assert ids(errors) == ["vault.E003"]
    assert "Set MUTUALIS_BLIND_INDEX_KEY or MUTUALIS_BLIND_INDEX_KEY_FILE" in errors[0].msg


def test_the_check_rejects_a_malformed_blind_index_key():
    with override_settings(MUTUALIS_MASTER_KEYS_RAW=new_key(), MUTUALIS_BLIND_INDEX_KEY_RAW="abc"):
        assert ids(check_keys()) == ["vault.E004"]


def test_the_check_rejects_a_blind_index_key_that_is_also_a_master_key():
    key = new_key()

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=key, MUTUALIS_BLIND_INDEX_KEY_RAW=key):
        assert ids(check_keys()) == ["vault.E005"]


def test_a_missing_key_fails_the_deployment_check():
    from django.core import checks

    with override_settings(MUTUALIS_MASTER_KEYS_RAW=""):
        errors = checks.run_checks(tags=["vault"], include_deployment_checks=True)
        without_deploy = checks.run_checks(tags=["vault"])

    assert "vault.E001" in ids(errors)
    assert "vault.E001" not in ids(without_deploy)
