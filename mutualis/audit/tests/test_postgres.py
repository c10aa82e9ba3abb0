"""Guarantees that only PostgreSQL can show: the triggers, and concurrent writers that neither
wait for one another nor fork the chain."""

from __future__ import annotations

import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from mutualis.audit.models import ChainHead, ChainLink, Event
from mutualis.audit.sequencer import sequence, sequence_all
from mutualis.audit.services import record
from mutualis.audit.tests.conftest import SampleTag

pytestmark = pytest.mark.postgres

THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("UPDATE audit_event SET actor = 'staff:666'", "append-only"),
        ("DELETE FROM audit_event", "append-only"),
        ("UPDATE audit_chainlink SET hash = repeat('0', 64)", "append-only"),
        ("DELETE FROM audit_chainlink", "append-only"),
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_records(chain, sql, refusal):
    chain(2)
    chain(1, placed=False)
    with (
        pytest.raises(DatabaseError, match=refusal),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert Event.objects.order_by("id").first().actor == "staff:0"
    assert ChainLink.objects.count() == 2


def _in_threads(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_another_writers_commit():
    """One writer keeps its transaction (and its event) open; another records and commits."""
    holding, released = threading.Event(), threading.Event()
    second_committed = threading.Event()

    def writer(n: int) -> None:
        if n == 0:
            with transaction.atomic():
                record(SampleTag.MEMBER_UPDATE, actor="staff:0")
                holding.set()
                # Held open until the other writer has committed (or the test gives up).
                released.wait(timeout=30)
        else:
            holding.wait(timeout=30)
            with transaction.atomic():
                record(SampleTag.MEMBER_UPDATE, actor="staff:1")
            second_committed.set()
            released.set()

    errors = _in_threads(writer, 2)
    assert errors == []
    # The second writer committed while the first one's transaction was still open: had it
    # waited for a lock the first one held, `released` would only have been set by the timeout.
    assert second_committed.is_set()
    assert Counter(Event.objects.values_list("actor", flat=True)) == {"staff:0": 1, "staff:1": 1}


@pytest.mark.django_db(transaction=True)
def test_an_event_commits_or_rolls_back_with_the_write_it_records():
    with transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, actor="staff:1")
    with pytest.raises(RuntimeError), transaction.atomic():
        record(SampleTag.MEMBER_UPDATE, actor="staff:2")
        raise RuntimeError("the write failed")
    assert list(Event.objects.values_list("actor", flat=True)) == ["staff:1"]
    assert sequence_all() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sequencers_never_fork_nor_skip_the_chain():
    start = threading.Barrier(THREADS + 2)
    writing_done = threading.Event()

    def work(n: int) -> None:
        start.wait()
        if n < THREADS:  # writers
            for i in range(EVENTS_PER_THREAD):
                with transaction.atomic():
                    record(SampleTag.MEMBER_UPDATE, actor=f"staff:{n}", details={"i": i})
            return
        # two sequencers, as on two hosts, placing while the writers write
        while True:
            finished = writing_done.is_set()
            placed = sequence(batch_size=7)
            if finished and not placed and not Event.objects.filter(link__isnull=True).exists():
                return

    def writers_then_flag(n: int) -> None:
        work(n)

    threads_errors: list[BaseException] = []
    writers = threading.Thread(
        target=lambda: threads_errors.extend(_in_threads(writers_then_flag, THREADS))
    )
    sequencers = threading.Thread(
        target=lambda: threads_errors.extend(_in_threads(lambda n: work(THREADS + n), 2))
    )
    writers.start()
    sequencers.start()
    writers.join()
    writing_done.set()
    sequencers.join()

    assert threads_errors == []
    total = THREADS * EVENTS_PER_THREAD
    assert list(ChainLink.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert ChainLink.objects.values("event_id").distinct().count() == total
    assert ChainHead.objects.get().last_seq == total
    assert Counter(Event.objects.values_list("actor", flat=True)) == {
        f"staff:{n}": EVENTS_PER_THREAD for n in range(THREADS)
    }
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert f"{total} événements vérifiés." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_second_sequencer_leaves_the_head_to_the_one_holding_it():
    with transaction.atomic():
        record(SampleTag.MEMBER_UPDATE)
    sequence_all()
    with transaction.atomic():
        record(SampleTag.MEMBER_UPDATE)
    holding, done = threading.Event(), threading.Event()
    seen: list[int] = []

    def holder(n: int) -> None:
        if n == 0:
            with transaction.atomic():
                ChainHead.objects.select_for_update().get()
                holding.set()
                done.wait(timeout=30)
        else:
            holding.wait(timeout=30)
            seen.append(sequence())
            done.set()

    assert _in_threads(holder, 2) == []
    assert seen == [0]
    assert sequence() == 1
