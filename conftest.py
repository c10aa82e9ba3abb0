"""Test-suite wide switches.

Tests that need PostgreSQL or Chromium are marked ``postgres`` / ``browser``. On a developer's
machine they skip with a reason when the part is absent; in CI (``CI=true``) a missing part is a
failure, never a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("MUTUALIS_CHROMIUM", "/usr/bin/chromium")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run here)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("browser") and not (
        shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)
    ):
        _missing(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")


# --- Personas (architecture.md §14): alice and dave are members, bob the DPO, charlie staff without
# the permission under test. ---------------------------------------------------------------
PASSWORD = "correct horse battery staple"


def _member(first_names: str, last_name: str, email: str, seed: int):
    import random

    from mutualis.contracts import services
    from mutualis.contracts.testing import (
        child_of,
        ensure_offers,
        make_application,
        make_person_data,
    )

    ensure_offers()
    rng = random.Random(seed)
    person = make_person_data(first_names=first_names, last_name=last_name, email=email, rng=rng)
    application = make_application(member=person, beneficiaries=[child_of(person)], rng=rng)
    contract = services.subscribe(application=application)
    account = contract.member.account
    account.set_password(PASSWORD)
    account.save()
    return contract.member


@pytest.fixture
def alice(db):
    """A member with a child attached to her NIR, a contract, a mandate and an active account."""
    return _member("Alice", "Martin", "alice@example.org", 1)


@pytest.fixture
def dave(db):
    """Another member: alice must never reach his data."""
    return _member("Dave", "Durand", "dave@example.org", 2)


def _staff(role: str, email: str):
    from mutualis.members.models import User, UserKind

    return User.objects.create_user(
        email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
    )


@pytest.fixture
def bob(db):
    """The DPO."""
    return _staff("dpo", "bob@mutuelle.example")


@pytest.fixture
def charlie(db):
    """Staff of the *relation adhérent* service: no reveal of NIR or IBAN."""
    return _staff("relation_adherent", "charlie@mutuelle.example")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django's SMTP backend sends to it during the test."""
    from mutualis.lib.smtp_testing import LoopbackSMTP

    server = LoopbackSMTP().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.stop()
