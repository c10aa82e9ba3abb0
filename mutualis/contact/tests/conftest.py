"""Fixtures of the contact tests; the personas (alice, dave, bob, charlie) come from the root."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from django.test import Client

from conftest import PASSWORD
from mutualis.backoffice.testing import login_verified
from mutualis.members.models import User, UserKind

# Files as they really begin: the type is read from these bytes, never from the name.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 not a pdf"

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def new_staff(role: str) -> User:
    email = f"{role.replace('_', '-')}-{next(_numbers)}@mutuelle.example"
    return User.objects.create_user(
        email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
    )


@pytest.fixture
def staff(db):
    """``staff("reclamations")``: a new staff account of that service."""
    return new_staff


@pytest.fixture
def rita(db):
    """Staff of the *réclamations* service."""
    return new_staff("reclamations")


@pytest.fixture
def as_staff(db):
    """``as_staff(user)``: a fresh client logged in as ``user`` with both factors."""

    def log_in(user: User) -> Client:
        client = Client()
        login_verified(client, user)
        return client

    return log_in


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.account)
    return client
