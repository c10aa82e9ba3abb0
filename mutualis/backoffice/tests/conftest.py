"""Back-office fixtures: staff of each service, and clients logged in with both factors."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import PASSWORD
from mutualis.backoffice.testing import login_verified
from mutualis.members.models import User, UserKind


def make_staff(role: str, email: str | None = None) -> User:
    email = email or f"{role.replace('_', '-')}@mutuelle.example"
    return User.objects.create_user(
        email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
    )


@pytest.fixture
def staff(db):
    """``staff("gestion")``: a new staff account of that service (no device yet)."""
    return make_staff


@pytest.fixture
def gina(db):
    """Staff of the *gestion* service: sees and reveals NIR, no bank data."""
    return make_staff("gestion", "gina@mutuelle.example")


@pytest.fixture
def colin(db):
    """Staff of the *cotisations* service: sees and reveals IBAN, no administrative data."""
    return make_staff("cotisations", "colin@mutuelle.example")


@pytest.fixture
def ada(db):
    """Staff of the *admin* service: staff accounts only, no member data."""
    return make_staff("admin", "ada@mutuelle.example")


@pytest.fixture
def as_staff(db):
    """``as_staff(user)``: a fresh test client logged in as ``user`` with both factors, and just
    re-authenticated (``reauthenticated=False`` for a session that is not)."""

    def log_in(user: User, *, reauthenticated: bool = True) -> Client:
        client = Client()
        login_verified(client, user, reauthenticated=reauthenticated)
        return client

    return log_in
