"""Guarantees that only PostgreSQL can show: the triggers, and concurrent writers that neither
wait for one another nor fork the chain."""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections import Counter
from io import StringIO

import psycopg
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from mutualis.audit.models import ChainHead, ChainLink, Event
from mutualis.audit.sequencer import sequence, sequence_all
from mutualis.audit.services import prune, record
from mutualis.audit.tests.conftest import SampleTag
from mutualis.audit.verify import verify_chain

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
def test_the_insert_sends_its_values_apart_and_fails_as_any_query():
    # record() binds its values in the server (not written into the SQL text, as Django's cursor
    # does), on the connection of the write it records.
    subject = uuid.uuid4()
    with transaction.atomic():
        record(SampleTag.REPORT_READ, subject=subject, details={"note": "valeur-témoin"})
        pid = connection.connection.info.backend_pid
        with psycopg.connect(**connection.get_connection_params()) as observer:
            (sent,) = observer.execute(
                "SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
    assert sent.startswith("INSERT INTO audit_event") and "$8" in sent
    assert str(subject) not in sent and "témoin" not in sent
    assert Event.objects.get().subject_id == str(subject)
    # Its errors are Django's, as any query's.
    with transaction.atomic():
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        with pytest.raises(DatabaseError, match="aborted"):
            record(SampleTag.REPORT_READ)
        transaction.set_rollback(True)
    assert Event.objects.count() == 1


PREPARED = "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(PREPARED)
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_the_insert_is_prepared_once_per_connection_and_nothing_else_is(settings):
    for _ in range(3):
        with transaction.atomic():
            record(SampleTag.REPORT_READ)
    for _ in range(10):  # Django's own queries are not prepared, however often they run
        assert Event.objects.filter(tag=SampleTag.REPORT_READ).count() >= 3
    (statement,) = _prepared()
    assert statement.startswith("INSERT INTO audit_event")
    connection.close()  # a new connection prepares it again
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert len(_prepared()) == 1
    # Behind a pooler that does not keep them: no prepared statement.
    settings.MUTUALIS_AUDIT_PREPARED = False
    connection.close()
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert _prepared() == []
    assert Event.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_prepare_threshold_the_deployment_set_is_left_as_it_is():
    connection.ensure_connection()
    connection.connection.prepare_threshold = 7
    with transaction.atomic():
        record(SampleTag.REPORT_READ)
    assert connection.connection.prepare_threshold == 7
    assert len(_prepared()) == 1


@pytest.mark.django_db(transaction=True)
def test_an_event_commits_or_rolls_back_with_the_write_it_records():
    users = get_user_model().objects
    with transaction.atomic():
        kept = users.create_user("kept@example.org")
        record(SampleTag.MEMBER_UPDATE, actor="staff:1", target=kept)
    with pytest.raises(IntegrityError), transaction.atomic():
        lost = users.create_user("lost@example.org")
        record(SampleTag.MEMBER_UPDATE, actor="staff:2", target=lost)
        users.create_user("kept@example.org")  # the write fails in the database: address taken
    assert list(users.values_list("email", flat=True)) == ["kept@example.org"]
    assert list(Event.objects.values_list("actor", "target")) == [
        ("staff:1", f"members.user:{kept.pk}")
    ]
    assert sequence_all() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch_size", [5000, 2], ids=["batch not full", "full batches"])
def test_an_event_committed_after_higher_ones_were_placed_is_placed_after_them(batch_size):
    """The watermark race: a lower id still uncommitted while the sequencer places higher ones."""
    holding, release = threading.Event(), threading.Event()
    slow: list[int] = []

    def slow_writer(n: int) -> None:
        with transaction.atomic():
            slow.append(record(SampleTag.MEMBER_UPDATE, actor="staff:1").pk)
            holding.set()
            release.wait(timeout=30)

    errors: list[BaseException] = []
    writer = threading.Thread(target=lambda: errors.extend(_in_threads(slow_writer, 1)))
    writer.start()
    try:
        assert holding.wait(timeout=30)
        fast = []
        for _ in range(5):
            with transaction.atomic():
                fast.append(record(SampleTag.MEMBER_UPDATE, actor="staff:2").pk)
        assert min(fast) > slow[0]
        for _ in range(6):  # passes while the lower id is still uncommitted
            sequence(batch_size=batch_size)
        assert list(ChainLink.objects.order_by("seq").values_list("event_id", flat=True)) == fast
        assert ChainHead.objects.get().watermark < slow[0]  # never raised past the open one
    finally:
        release.set()
        writer.join()
    assert errors == []

    # Committed now: placed at the next passes, and the watermark passes both. A bounded number
    # of passes, so that a sequencer that never places it fails the test instead of hanging it.
    for _ in range(20):
        sequence(batch_size=batch_size)
        head = ChainHead.objects.get()
        if head.watermark >= fast[-1] and ChainLink.objects.filter(event_id=slow[0]).exists():
            break
    else:
        pytest.fail("the event committed late was not placed, or the watermark did not pass it")
    order = ChainLink.objects.order_by("seq").values_list("event_id", flat=True)
    assert list(order) == [*fast, slow[0]]
    assert verify_chain().ok


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


# --- Pruning is the one way out, and the database checks it ------------------------------------
def _link(seq: int) -> ChainLink:
    return ChainLink.objects.get(seq=seq)


def _as_a_plain_session(sql: str, params: list | None = None) -> None:
    """What any session of the application's role may try, the former bypass setting included."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL mutualis.audit_prune = 'on'")
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("attempt", "refusal"),
    [
        ("DELETE FROM audit_event WHERE id = {pending}", "append-only"),
        ("DELETE FROM audit_event", "append-only"),
        ("DELETE FROM audit_chainlink WHERE seq = 4", "append-only"),
        ("DELETE FROM audit_chainlink", "append-only"),
        (
            "UPDATE audit_chainhead SET checkpoint_seq = 2, checkpoint_hash = '{hash2}'",
            "checkpoint",
        ),
        ("UPDATE audit_chainhead SET last_seq = 2, last_hash = '{hash2}'", "end"),
        ("UPDATE audit_chainhead SET last_seq = 5, last_hash = repeat('a', 64)", "end"),
        ("UPDATE audit_chainhead SET watermark = 0", "watermark"),
        ("UPDATE audit_chainhead SET watermark = {pending}", "watermark"),
        ("DELETE FROM audit_chainhead", "never deleted"),
    ],
)
def test_a_plain_session_cannot_delete_events_or_links_nor_move_the_head(chain, attempt, refusal):
    chain(4)
    (pending,) = chain(1, placed=False)
    head = ChainHead.objects.values_list(
        "last_seq", "last_hash", "checkpoint_seq", "checkpoint_hash", "watermark"
    ).get()
    sql = attempt.format(pending=pending.pk, hash2=_link(2).hash)

    with pytest.raises(DatabaseError, match=refusal):
        _as_a_plain_session(sql)

    assert Event.objects.count() == 5 and ChainLink.objects.count() == 4
    assert (
        head
        == ChainHead.objects.values_list(
            "last_seq", "last_hash", "checkpoint_seq", "checkpoint_hash", "watermark"
        ).get()
    )
    assert verify_chain().ok


def test_a_checkpoint_moved_with_a_forged_pruning_event_is_named_by_audit_verify(chain):
    """Without the audit key, the pruning event a session must write beside the move is forged:
    it stays after the checkpoint, where ``audit_verify`` checks its MAC."""
    events = chain(4)
    hash2 = _link(2).hash
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (uid, at, actor, tag, subject_id, target, details, mac) "
            "VALUES (gen_random_uuid(), now(), 'system', 'audit:chain:prune', '', '', %s::jsonb, "
            "%s) RETURNING id",
            [json.dumps({"to_seq": 2, "checkpoint_hash": hash2}), events[0].mac],
        )
        (forged,) = cursor.fetchone()
        cursor.execute(
            "UPDATE audit_chainhead SET checkpoint_seq = 2, checkpoint_hash = %s", [hash2]
        )
        cursor.execute("DELETE FROM audit_event WHERE id IN (%s, %s)", [e.pk for e in events[:2]])
        cursor.execute("DELETE FROM audit_chainlink WHERE seq <= 2")

    result = verify_chain()
    assert not result.ok
    assert result.first_break.event_id == forged
    assert "a été modifié" in result.first_break.reason


def test_pruning_still_removes_the_start_of_the_chain_and_keeps_it_verifiable(db):
    start = datetime.datetime(2025, 1, 1, 9, tzinfo=datetime.UTC)
    events = []
    for day in range(5):
        with (
            time_machine.travel(start + datetime.timedelta(days=day), tick=False),
            transaction.atomic(),
        ):
            events.append(record(SampleTag.MEMBER_UPDATE, actor=f"staff:{day}"))
    sequence_all()

    removed, batches = prune(before=start + datetime.timedelta(days=3), batch_size=2)

    assert (removed, batches) == (3, 2)
    assert ChainHead.objects.get().checkpoint_seq == 3
    assert not Event.objects.filter(pk__in=[e.pk for e in events[:3]]).exists()
    assert not ChainLink.objects.filter(seq__lte=3).exists()
    assert Event.objects.filter(tag="audit:chain:prune").count() == 2
    sequence_all()
    assert verify_chain().ok


def test_a_restore_leaves_the_guards_on(chain, tmp_path):
    """A restore, run as the tables' owner, switches the triggers off for its own transaction."""
    chain(3)
    data, keys = tmp_path / "donnees.bak", tmp_path / "cles.bak"
    call_command("backup", str(data), stdout=StringIO())
    call_command("backup_keys", str(keys), stdout=StringIO())
    call_command("restore", str(data), str(keys), "--yes", stdout=StringIO(), stderr=StringIO())

    for attempt in ("DELETE FROM audit_chainlink", "DELETE FROM audit_chainhead"):
        with pytest.raises(DatabaseError, match=r"append-only|never deleted"):
            _as_a_plain_session(attempt)
    assert verify_chain().ok
