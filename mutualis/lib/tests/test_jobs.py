"""Periodic jobs started twice at once, as two cron hosts would: one run's end state, no double
work. The real test is on PostgreSQL (several hosts share it); SQLite's lock file is checked too.
"""

from __future__ import annotations

import datetime
import io
import threading
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from mutualis.audit.models import ChainLink, Event
from mutualis.audit.sequencer import sequence_all
from mutualis.audit.services import record
from mutualis.audit.verify import verify_chain
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Message
from mutualis.lib.jobs import exclusive_job, file_lock
from mutualis.privacy.models import RetentionRun

FIXTURES = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"
EMAILS = ("latin1_qp.eml", "html_only.eml", "reply_cp1252.eml", "multipart_attachments.eml")


def _twice_at_once(command: str, *args: str) -> list[str]:
    """Run ``command`` in two threads (two connections) released at the same instant."""
    start = threading.Barrier(2)
    outputs: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out = io.StringIO()
            start.wait()
            call_command(command, *args, stdout=out)
            outputs.append(out.getvalue())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return outputs


def _holding(name: str):
    """Another host's run of ``name``: holds the job until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with exclusive_job(name) as acquired:
                assert acquired
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(timeout=30)
    return release, thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_another_host_is_running_steps_aside_then_runs(tmp_path):
    for name in EMAILS:
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    release, other = _holding("fetch_mail")
    try:
        out = io.StringIO()
        call_command("fetch_mail", "--path", str(tmp_path), stdout=out)
        assert "fetch_mail est déjà en cours" in out.getvalue()
        assert not Message.objects.exists()
    finally:
        release.set()
        other.join()
    call_command("fetch_mail", "--path", str(tmp_path), stdout=io.StringIO())
    assert Message.objects.count() == len(EMAILS)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fetch_mail_twice_at_once_stores_each_message_once(tmp_path):
    for name in EMAILS:
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())

    outputs = _twice_at_once("fetch_mail", "--path", str(tmp_path))

    assert Message.objects.count() == len(EMAILS)
    assert (
        Event.objects.filter(tag__startswith="contact:").count()
        == Event.objects.filter(tag__startswith="contact:").values("target").distinct().count()
    )
    assert sum("4 message(s) enregistré(s)" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_enforce_retention_twice_at_once_ends_as_one_run():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC), tick=False):
        for name in EMAILS:
            ingest((FIXTURES / name).read_bytes())
    bodies = Message.objects.exclude(body="").count()
    assert bodies

    outputs = _twice_at_once("enforce_retention", "--as-of", "2026-12-02")

    assert Message.objects.exclude(body="").count() == 0  # e-mails past three months: emptied
    # Each message was emptied once: the batches' audited row counts add up to it, whether
    # the second run stepped aside or came after the first and found nothing left to do.
    batches = Event.objects.filter(
        tag="privacy:retention:anonymise", details__model="contact.Message"
    )
    assert sum(e.details["rows"] for e in batches) == bodies
    stepped_aside = sum("déjà en cours" in out for out in outputs)
    assert stepped_aside + RetentionRun.objects.filter(dry_run=False).count() == 2
    assert verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sequencers_at_once_place_each_event_once():
    for i in range(50):
        with transaction.atomic():
            record("members:member:update", actor=f"staff:{i}")

    _twice_at_once("audit_sequence", "--batch-size", "7")
    sequence_all()

    assert ChainLink.objects.count() == Event.objects.count()
    assert list(ChainLink.objects.values_list("seq", flat=True)) == list(range(1, 51))
    assert verify_chain().ok


def test_the_lock_file_of_one_host_keeps_a_second_run_out(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with file_lock("fetch_mail") as first, file_lock("fetch_mail") as second:
        assert (first, second) == (True, False)
    with file_lock("fetch_mail") as again:
        assert again


# Every periodic job the deploy/ timers start, beyond those tested above for their end state.
PERIODIC_JOBS = [
    ("send_campaigns",),
    ("send_policy_notices",),
    ("aggregate_statistics",),
    ("prune_backups", "{tmp}"),
    ("close_rights_requests",),
    ("purge_subscription_drafts",),
]


@pytest.mark.postgres
@pytest.mark.parametrize("command", PERIODIC_JOBS, ids=lambda c: c[0])
@pytest.mark.django_db(transaction=True)
def test_each_periodic_job_steps_aside_while_another_host_runs_it(command, tmp_path):
    name, *args = command
    args = [arg.format(tmp=tmp_path) for arg in args]
    release, other = _holding(name)
    try:
        out = io.StringIO()
        call_command(name, *args, stdout=out)
        assert f"{name} est déjà en cours" in out.getvalue()
    finally:
        release.set()
        other.join()
