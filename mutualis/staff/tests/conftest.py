"""Administrators for the staff-administration tests: ada and alan (admin), and the helpers
that build an invitation link the way the back office does."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD
from mutualis.members.models import User, UserKind


def make_staff(role: str, email: str) -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
    )


@pytest.fixture
def ada(db):
    return make_staff("admin", "ada@mutuelle.example")


@pytest.fixture
def alan(db):
    """A second administrator: four eyes need two."""
    return make_staff("admin", "alan@mutuelle.example")


@pytest.fixture
def gina(db):
    return make_staff("gestion", "gina@mutuelle.example")


def link_for(uidb64: str, token: str) -> str:
    return f"https://gestion.example/invitation/{uidb64}/{token}/"


def link_in(body: str) -> tuple[str, str]:
    uidb64, token = re.search(
        r"https://gestion\.example/invitation/([^/]+)/([^/]+)/", body
    ).groups()
    return uidb64, token
