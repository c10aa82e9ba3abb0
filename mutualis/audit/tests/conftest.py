from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from mutualis.audit.models import Event
from mutualis.audit.sequencer import sequence_all
from mutualis.audit.services import record
from mutualis.audit.tags import Tag


class SampleTag(Tag):
    MEMBER_UPDATE = "members:member:update"
    REPORT_READ = "backoffice:report:read"


@pytest.fixture
def alice(db):
    """A member (here only a login account: the members app owns the person)."""
    return get_user_model().objects.create_user("alice", password="correct horse battery")


@pytest.fixture
def bob(db):
    """The DPO."""
    return get_user_model().objects.create_user("bob", password="correct horse battery")


@pytest.fixture
def chain(db) -> Callable[..., list[Event]]:
    """Record ``n`` events, each in its own transaction, then place them in the chain.

    With ``placed=False`` they stay pending, as between a commit and the sequencer's next pass.
    """

    def make(n: int, *, placed: bool = True) -> list[Event]:
        events = []
        for i in range(n):
            with transaction.atomic():
                events.append(
                    record(
                        SampleTag.MEMBER_UPDATE,
                        actor=f"staff:{i}",
                        subject=str(100 + i),
                        details={"field": "email", "n": i},
                    )
                )
        if placed:
            sequence_all()
        return events

    return make


@pytest.fixture
def tamper(db) -> Callable[..., None]:
    """Run raw SQL on the audit table as an attacker with database access would.

    On PostgreSQL the attacker first disables the audit triggers (the tables' owner can); the
    test transaction rolls the change back.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("audit_event", "audit_chainlink", "audit_chainhead"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")

    def run(sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def as_json(value: object) -> str:
    return json.dumps(value)
