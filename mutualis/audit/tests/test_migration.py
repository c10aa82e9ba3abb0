"""The conversion of a chain written before the sequencer (migration 0006) keeps it verifiable."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mutualis.audit.models import ChainHead, Event
from mutualis.audit.verify import verify_chain

BEFORE = [("audit", "0005_security_event")]
AFTER = [("audit", "0006_sequenced_chain")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_chain(apps, n: int, *, tamper_at: int | None = None) -> None:
    """Events as the former ``record()`` wrote them: each with its seq, prev_hash and hash."""
    import importlib

    old = importlib.import_module("mutualis.audit.migrations.0006_sequenced_chain")
    OldEvent = apps.get_model("audit", "Event")
    OldHead = apps.get_model("audit", "ChainHead")
    prev = "0" * 64
    at = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
    for seq in range(1, n + 1):
        event = OldEvent(
            seq=seq,
            at=at + datetime.timedelta(minutes=seq),
            actor=f"staff:{seq}",
            tag="members:member:update",
            subject_id=str(100 + seq),
            target="",
            details={"n": seq, "é": "€"},
            prev_hash=prev,
        )
        event.hash = old._old_hash(event)
        if seq == tamper_at:
            event.actor = "staff:666"  # edited after it was hashed
        event.save()
        prev = event.hash
    OldHead.objects.create(pk=1, last_seq=n, last_hash=prev)


@pytest.fixture
def before_sequencer(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_an_intact_chain_is_carried_over_in_order_and_verifies(before_sequencer):
    _old_chain(before_sequencer, 4)
    _migrate(AFTER)

    result = verify_chain()
    assert result.ok, result.first_break
    assert result.checked == 5  # the four events and the conversion's own
    assert [e.seq for e in Event.objects.order_by("id")] == [1, 2, 3, 4, 5]
    conversion = Event.objects.get(tag="audit:chain:migrate")
    assert conversion.details["former_chain"] == "intacte"
    assert conversion.details["former_head_seq"] == 4
    assert ChainHead.objects.get().last_seq == 5


def test_a_chain_broken_before_the_conversion_says_so_on_the_record(before_sequencer):
    _old_chain(before_sequencer, 4, tamper_at=2)
    _migrate(AFTER)

    conversion = Event.objects.get(tag="audit:chain:migrate")
    assert conversion.details["former_chain"] == "rupture à l'événement n° 2"
