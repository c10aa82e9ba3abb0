"""Third-party models are declared like the project's own: the check covers every installed
model, so a library's table of personal data cannot slip in undeclared."""

from __future__ import annotations

import pytest
from django.apps import apps

from mutualis.privacy import catalogue, registry
from mutualis.privacy.checks import check_declaration, is_project_model

THIRD_PARTY_PERSONAL = [
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "sessions.Session",
    "otp_totp.TOTPDevice",
    "web.CacheEntry",  # Django's database cache, mapped: the rate limits' keyed hashes
]


def test_every_installed_model_is_declared_third_party_ones_included():
    assert check_declaration() == []
    third_party = [m for m in apps.get_models() if not is_project_model(m)]
    labels = {m._meta.label for m in third_party}
    assert labels >= set(THIRD_PARTY_PERSONAL) - {"web.CacheEntry"}
    for model in third_party:
        assert registry.get(model._meta.label) is not None, model._meta.label


@pytest.mark.parametrize("label", THIRD_PARTY_PERSONAL)
def test_a_third_party_model_with_personal_data_has_a_purpose_and_a_retention(label):
    declaration = registry.get(label)
    assert declaration.holds_personal_data and declaration.fields
    assert declaration.retention_rule is not None
    assert declaration.retention_anchor


@pytest.mark.parametrize("label", ["axes.AccessAttempt", "otp_totp.TOTPDevice", "web.CacheEntry"])
def test_an_undeclared_third_party_model_fails_the_check(label):
    declaration = registry.get(label)
    registry.unregister(label)
    try:
        errors = [e for e in check_declaration() if e.id == "privacy.E001"]
    finally:
        registry._register(declaration)
    assert [e.obj._meta.label for e in errors] == [label]
    if label != "web.CacheEntry":  # a library's own model
        assert "mutualis.privacy.third_party" in errors[0].hint


def test_the_login_attempts_and_the_security_log_keep_six_months():
    for label in ("axes.AccessAttempt", "audit.SecurityEvent"):
        assert registry.get(label).retention_rule is catalogue.RETENTION_TECHNICAL_LOGS


def test_the_cache_mapped_is_the_table_the_database_cache_uses():
    from mutualis import settings as project_settings
    from mutualis.web.models import CacheEntry

    assert project_settings._CACHE_BACKENDS["db"]["LOCATION"] == CacheEntry._meta.db_table
    assert CacheEntry._meta.managed is False  # Django's cache creates and writes it
    declaration = registry.get("web.CacheEntry")
    assert declaration.retention_rule is catalogue.RETENTION_RATE_LIMITS
    assert declaration.retention_anchor == "expires"
    assert {f.category for f in declaration.fields.values()} == {catalogue.TECHNICAL}
