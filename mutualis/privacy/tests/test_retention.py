"""The retention engine against every promise, at dates on both sides of each rule."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.audit.models import Event
from mutualis.audit.verify import verify_chain
from mutualis.contact import services as contact
from mutualis.contact.inbound import ingest
from mutualis.contact.models import (
    Attachment,
    Channel,
    ComplainantType,
    Complaint,
    Inquiry,
    Message,
)
from mutualis.members import services as members
from mutualis.members.models import Person
from mutualis.privacy import holds, policy, promises, retention
from mutualis.privacy.models import RetentionRun
from mutualis.vault.models import DataKey, ShredRecord

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
EMAIL = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def published(db):
    policy.publish(datetime.date(2026, 1, 1))


def _email():
    with time_machine.travel(at(2026, 11, 5, 9), tick=False):
        message, _ = ingest((EMAIL / "multipart_attachments.eml").read_bytes())
    return message


def _enforce(when: datetime.datetime, **kwargs) -> retention.Report:
    with time_machine.travel(when, tick=False):
        return retention.enforce(**kwargs)


def _breaches(when: datetime.datetime) -> list[str]:
    return [b for r in promises.run(when) for b in r.breaches]


def test_an_email_body_is_kept_two_months_then_erased_leaving_a_trace(published):
    """Two months in the database and four weeks of backups: no copy past three months."""
    message = _email()  # dated 4 November 2026, 18:30
    _enforce(at(2027, 1, 4, 12))
    assert Message.objects.get(pk=message.pk).body  # two months not yet over
    assert not _breaches(at(2027, 1, 4, 12))

    assert any("contact.Message" in b for b in _breaches(at(2027, 1, 5, 12)))
    _enforce(at(2027, 1, 5, 12))
    message.refresh_from_db()
    assert message.body == "" and message.content_erased_at is not None
    assert not Attachment.objects.exists()
    assert message.inquiry_id and message.at  # the content-free trace
    assert not _breaches(at(2027, 1, 5, 12))


def test_an_inquiry_goes_three_years_after_the_last_contact():
    message = _email()
    inquiry = message.inquiry
    _enforce(at(2029, 11, 4, 12))
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    _enforce(at(2029, 11, 6, 12))
    assert not Inquiry.objects.filter(pk=inquiry.pk).exists()
    assert not Message.objects.exists()


def test_a_closed_complaint_is_archived_then_deleted_five_years_after_closure(bob):
    with time_machine.travel(at(2026, 3, 2, 10), tick=False):
        inquiry = contact.open_inquiry(
            channel=Channel.PHONE, subject="Litige", body="…", contact_name="M. X"
        )
        complaint = contact.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Litige"
        )
        contact.answer(inquiry=inquiry, body="Réponse", actor=bob)
        contact.close_complaint(complaint=complaint, outcome="rejected", actor=bob)
    _enforce(at(2026, 3, 3, 12))
    complaint.refresh_from_db()
    assert complaint.archived_at is not None  # restricted, DPO only
    _enforce(at(2029, 6, 1, 12))  # the thread's own 3 years do not apply to a complaint
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    _enforce(at(2031, 3, 3, 12))
    assert not Complaint.objects.exists()
    _enforce(at(2031, 3, 3, 13))
    assert not Inquiry.objects.filter(pk=inquiry.pk).exists()


def test_an_open_complaint_is_never_archived(bob):
    inquiry = contact.open_inquiry(channel=Channel.PHONE, subject="x", body="x", contact_name="Y")
    contact.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="x"
    )
    _enforce(at(2040, 1, 1, 12))
    assert Complaint.objects.get().archived_at is None


def test_a_legal_hold_stops_the_clock_until_released(bob):
    message = _email()
    hold = holds.place_hold(reason="Contentieux", actor=bob, target=message.inquiry)
    _enforce(at(2030, 1, 1, 12), only_app="contact")
    assert Inquiry.objects.filter(pk=message.inquiry_id).exists()
    holds.release_hold(hold=hold, actor=bob)
    _enforce(at(2030, 1, 1, 12), only_app="contact")
    assert not Inquiry.objects.filter(pk=message.inquiry_id).exists()
    assert (
        Event.objects.filter(tag__in=["privacy:hold:create", "privacy:hold:release"]).count() == 2
    )


def test_a_person_nothing_refers_to_any_more_is_erased_and_their_key_shredded():
    from mutualis.contracts.testing import make_person_data

    with time_machine.travel(at(2026, 1, 10, 9), tick=False):
        person = members.create_person(data=make_person_data(email="p@example.org"))
        contact.open_inquiry(channel=Channel.WEB_FORM, subject="x", body="x", person=person)
    key_id = person.data_key_id
    _enforce(at(2027, 1, 1, 12))
    assert Person.objects.filter(pk=person.pk).exists()  # the inquiry still refers to them
    _enforce(at(2029, 1, 11, 12))
    assert not Person.objects.filter(pk=person.pk).exists()
    assert ShredRecord.objects.filter(data_key_id=key_id).exists()
    assert not DataKey.objects.filter(pk=key_id).exists()


def test_a_person_under_a_legal_hold_is_kept(bob):
    from mutualis.contracts.testing import make_person_data

    person = members.create_person(data=make_person_data(email="q@example.org"))
    holds.place_hold(reason="Réquisition", actor=bob, subject=person)
    _enforce(at(2040, 1, 1, 12))
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_dry_run_counts_without_changing_anything():
    _email()
    report = _enforce(at(2027, 3, 1, 12), dry_run=True)
    counts = {(s.model, s.stage): s.rows for s in report.steps}
    assert counts[("contact.Message", "end")] == 1
    assert counts[("contact.Attachment", "end")] == 2
    assert Message.objects.get().body and Attachment.objects.count() == 2


def test_an_interrupted_run_then_a_rerun_ends_like_one_clean_run(monkeypatch):
    for i in range(7):
        with time_machine.travel(at(2026, 1, 1 + i, 9), tick=False):
            contact.open_inquiry(
                channel=Channel.WEB_FORM, subject=f"Q{i}", body="x", contact_name=f"V{i}"
            )
    calls = {"n": 0}
    real_delete = retention._delete

    def killed_after_two_batches(model, batch):
        if model is Inquiry:
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt  # the operator's Ctrl-C, mid-batch
        return real_delete(model, batch)

    monkeypatch.setattr(retention, "_delete", killed_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        _enforce(at(2030, 1, 1, 12), batch_size=2)
    assert Inquiry.objects.count() == 3  # two whole batches done, the third rolled back
    monkeypatch.setattr(retention, "_delete", real_delete)
    _enforce(at(2030, 1, 1, 12), batch_size=2)
    assert Inquiry.objects.count() == 0
    assert verify_chain().ok
    again = _enforce(at(2030, 1, 1, 12), batch_size=2)
    assert again.total == 0  # idempotent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_commit_without_waiting_for_the_disk_but_the_run_ends_durable(monkeypatch):
    from django.db import connection

    for i in range(3):
        with time_machine.travel(at(2026, 1, 1 + i, 9), tick=False):
            contact.open_inquiry(
                channel=Channel.WEB_FORM, subject=f"Q{i}", body="x", contact_name=f"V{i}"
            )
    seen = []
    real_delete = retention._delete

    def delete(model, batch):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])
        return real_delete(model, batch)

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    monkeypatch.setattr(retention, "_delete", delete)
    with connection.cursor() as cursor:  # whatever the server's default (CI runs with it off)
        cursor.execute("SET synchronous_commit TO on")
    try:
        with time_machine.travel(at(2030, 1, 1, 12), tick=False):
            call_command("enforce_retention", "--batch-size", "1", stdout=io.StringIO())
        assert Inquiry.objects.count() == 0
        assert seen and set(seen) == {"off"}  # each batch, only inside its own transaction
        assert synchronous_commit() == "on"  # the closing event (and anything after) waits
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    assert verify_chain().ok


def test_batch_size_adapts_to_the_time_a_batch_takes():
    size = retention.BatchSize(1000, seconds=1.0, ceiling=200_000)
    size.after(0.25)  # quick: grown toward the size that would take a second
    assert size.rows == 4000
    size.after(0.4)
    assert size.rows == 10_000
    size.after(0.7)  # about right: keep
    assert size.rows == 10_000
    size.after(0.001)  # far quicker: at most eight times
    assert size.rows == 80_000
    size.after(0.1)
    assert size.rows == 200_000  # never above the ceiling
    size.after(5.0)  # too long a lock: halve
    assert size.rows == 100_000
    for _ in range(20):
        size.after(9.0)
    assert size.rows == 62  # never below a sixteenth of the start
    fixed = retention.BatchSize(4000)
    fixed.after(0.0)
    fixed.after(60.0)
    assert fixed.rows == 4000


def test_adaptive_batches_end_like_fixed_ones(monkeypatch):
    for i in range(9):
        with time_machine.travel(at(2026, 1, 1 + i, 9), tick=False):
            contact.open_inquiry(
                channel=Channel.WEB_FORM, subject=f"Q{i}", body="x", contact_name=f"V{i}"
            )
    ticks = iter(range(0, 10_000))
    monkeypatch.setattr(retention, "_clock", lambda: next(ticks) * 0.01)
    report = _enforce(at(2030, 1, 1, 12), batch_size=1, batch_seconds=1.0)
    inquiries = next(s for s in report.steps if s.model == "contact.Inquiry" and s.stage == "end")
    assert inquiries.rows == 9
    assert inquiries.batches == 2  # 1, then the 8 left: the first was quick, eight times it
    assert not Inquiry.objects.exists() and not Message.objects.exists()
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("option", "value"),
    [("--batch-size", "0"), ("--batch-seconds", "-1"), ("--batch-seconds", "nan")],
)
def test_enforce_retention_refuses_bad_batch_options(option, value):
    with pytest.raises(CommandError, match="doit être"):
        call_command("enforce_retention", option, value, stdout=io.StringIO())


def test_audit_log_pruning_keeps_the_chain_verifiable():
    with time_machine.travel(at(2025, 1, 1, 9), tick=False):
        for i in range(5):
            contact.open_inquiry(channel=Channel.PHONE, subject=f"{i}", body="x", contact_name="Z")
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        contact.open_inquiry(channel=Channel.PHONE, subject="recent", body="x", contact_name="Z")
    before = Event.objects.count()
    _enforce(at(2026, 6, 2, 12), only_app="audit")
    assert Event.objects.count() < before
    assert not Event.objects.filter(at__lt=at(2025, 6, 2, 12)).exclude(tag="audit:chain:prune")
    assert Event.objects.filter(tag="audit:chain:prune").exists()
    assert verify_chain().ok
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intègre" in out.getvalue()


def test_enforce_retention_command_reports_and_records_its_run():
    _email()
    out = io.StringIO()
    call_command("enforce_retention", "--as-of", "2027-03-01", stdout=out)
    assert "contact.Message" in out.getvalue()
    run = RetentionRun.objects.get()
    assert any(s["model"] == "contact.Message" and s["rows"] == 1 for s in run.report)
    assert Event.objects.filter(tag="privacy:retention:run").count() == 1
    assert Event.objects.filter(tag="privacy:retention:anonymise").count() == 1


def test_privacy_check_names_each_breach_then_is_clean_after_enforcement(bob, published):
    _email()
    with time_machine.travel(at(2026, 9, 1, 10), tick=False):
        inquiry = contact.open_inquiry(
            channel=Channel.PHONE, subject="Plainte", body="x", contact_name="W"
        )
        contact.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Délai"
        )
    with time_machine.travel(at(2027, 3, 1, 12), tick=False):
        out = io.StringIO()
        with pytest.raises(SystemExit) as exc:
            call_command("privacy_check", stdout=out)
        assert exc.value.code == 1
        text = out.getvalue()
        assert "contact.Message" in text  # an e-mail body older than three months
        assert "sans accusé de réception" in text and "sans réponse" in text
        call_command("enforce_retention", stdout=io.StringIO())
        complaint = Complaint.objects.get()
        contact.answer(inquiry=complaint.inquiry, body="Réponse", actor=bob)
        out = io.StringIO()
        call_command("privacy_check", stdout=out)
        assert "Aucun manquement" in out.getvalue()
