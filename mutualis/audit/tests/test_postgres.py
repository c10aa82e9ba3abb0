"""Guarantees that only PostgreSQL can show: the trigger and concurrent writers."""

from __future__ import annotations

import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from mutualis.audit.models import Event
from mutualis.audit.services import record
from mutualis.audit.tests.conftest import SampleTag

pytestmark = pytest.mark.postgres

THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET actor = 'staff:666' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(chain, sql):
    chain(2)
    with (
        pytest.raises(DatabaseError, match="audit events are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert Event.objects.get(seq=1).actor == "staff:0"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_PER_THREAD):
                with transaction.atomic():
                    record(SampleTag.MEMBER_UPDATE, actor=f"staff:{worker}", details={"i": i})
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    prev_hashes = Counter(Event.objects.values_list("prev_hash", flat=True))
    assert prev_hashes.most_common(1)[0][1] == 1
    assert Counter(Event.objects.values_list("actor", flat=True)) == {
        f"staff:{n}": EVENTS_PER_THREAD for n in range(THREADS)
    }
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert f"{total} événements vérifiés" in out.getvalue()
