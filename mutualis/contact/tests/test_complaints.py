"""Complaints: deadlines around weekends, holidays and month ends; answers; the register."""

from __future__ import annotations

import csv
import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from mutualis.contact import deadlines, services
from mutualis.contact.models import Channel, ComplainantType, Complaint, Outcome, Status

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = datetime.date


def _inquiry(**kwargs):
    defaults = {
        "channel": Channel.PHONE,
        "subject": "Remboursement en retard",
        "body": "Appel : mécontent du délai.",
        "contact_name": "Jean Visiteur",
        "contact_email": "jean@example.com",
    }
    defaults.update(kwargs)
    return services.open_inquiry(**defaults)


@pytest.mark.parametrize(
    ("received", "ack", "answer"),
    [
        (D(2026, 11, 26), D(2026, 12, 10), D(2027, 1, 26)),
        (D(2026, 12, 31), D(2027, 1, 15), D(2027, 2, 28)),  # New Year; short February
        (D(2027, 12, 31), D(2028, 1, 14), D(2028, 2, 29)),  # leap year end of month
        (D(2026, 11, 28), D(2026, 12, 11), D(2027, 1, 28)),  # received on a Saturday
        (D(2026, 5, 7), D(2026, 5, 26), D(2026, 7, 7)),  # 8 May, Ascension, Whit Monday
    ],
)
def test_complaint_deadlines(received, ack, answer):
    assert deadlines.complaint_acknowledgement_due(received) == ack
    assert deadlines.complaint_answer_due(received) == answer


def test_qualifying_a_phone_inquiry_sets_both_deadlines_from_receipt():
    with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=PARIS), tick=False):
        inquiry = _inquiry()
        complaint = services.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Délai"
        )
    # 23:30 in Paris is still 31 December: the local date counts, not UTC.
    assert complaint.received_on == D(2026, 12, 31)
    assert complaint.acknowledgement_due == D(2027, 1, 15)
    assert complaint.answer_due == D(2027, 2, 28)
    inquiry.refresh_from_db()
    assert inquiry.service == "reclamations"


def test_an_answer_within_ten_working_days_counts_as_acknowledgement(bob):
    inquiry = _inquiry()
    complaint = services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason="Délai"
    )
    services.answer(inquiry=inquiry, body="Votre remboursement part demain.", actor=bob)
    complaint.refresh_from_db()
    assert complaint.answered_at is not None
    assert complaint.acknowledged_at == complaint.answered_at


def test_every_complaint_answer_states_recourse_and_mediator_even_a_refusal(
    bob, settings, django_capture_on_commit_callbacks
):
    settings.MUTUALIS_MEDIATOR = {
        "name": "Médiateur de la Mutualité française",
        "address": "255 rue de Vaugirard, 75015 Paris",
        "url": "https://www.mediateur-mutualite.fr",
    }
    inquiry = _inquiry()
    services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason="Refus de prise en charge"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.answer(inquiry=inquiry, body="Nous ne pouvons pas donner suite.", actor=bob)
    body = mail.outbox[0].body
    assert "Nous ne pouvons pas donner suite." in body
    assert "voies de recours" in body
    assert "Médiateur de la Mutualité française" in body and "255 rue de Vaugirard" in body


def test_acknowledgement_is_sent_once(bob, django_capture_on_commit_callbacks):
    inquiry = _inquiry()
    complaint = services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason="Accueil"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.acknowledge_complaint(complaint=complaint, actor=bob)
        services.acknowledge_complaint(complaint=complaint, actor=bob)
    assert len(mail.outbox) == 1
    assert "Accusé de réception" in mail.outbox[0].subject
    assert complaint.answer_due.strftime("%d/%m/%Y") in mail.outbox[0].body


def test_the_queue_is_sorted_by_the_nearest_deadline_and_flags_overdue():
    with time_machine.travel(datetime.datetime(2026, 10, 1, 10, tzinfo=PARIS), tick=False):
        old = services.qualify_as_complaint(
            inquiry=_inquiry(), complainant_type=ComplainantType.MEMBER, reason="Ancien"
        )
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=PARIS), tick=False):
        recent = services.qualify_as_complaint(
            inquiry=_inquiry(), complainant_type=ComplainantType.MEMBER, reason="Récent"
        )
    with time_machine.travel(datetime.datetime(2026, 11, 26, 10, tzinfo=PARIS), tick=False):
        queue = list(Complaint.objects.open().by_deadline())
        assert queue == [old, recent]
        assert old.is_overdue and not recent.is_overdue


def test_status_changes_follow_the_transition_table(bob):
    inquiry = _inquiry()
    services.change_status(inquiry=inquiry, status=Status.CLOSED, actor=bob)
    with pytest.raises(services.InvalidTransition):
        services.change_status(inquiry=inquiry, status=Status.ANSWERED, actor=bob)
    services.change_status(inquiry=inquiry, status=Status.OPEN, actor=bob)


def test_the_register_lists_complaints_of_the_period_without_nir_or_iban(alice, bob):
    inquiry = services.open_inquiry(
        channel=Channel.MEMBER_SPACE,
        subject="Prélèvement en double",
        body="Mon IBAN a été débité deux fois.",
        person=alice.person,
    )
    complaint = services.qualify_as_complaint(
        inquiry=inquiry,
        complainant_type=ComplainantType.MEMBER,
        reason="Prélèvement en double",
        product="Confort",
        actor=bob,
    )
    services.answer(inquiry=inquiry, body="Remboursé.", actor=bob)
    services.close_complaint(
        complaint=complaint, outcome=Outcome.UPHELD, root_cause="Erreur de lot", actor=bob
    )
    today = complaint.received_on.isoformat()
    out = io.StringIO()
    call_command(
        "complaints_register", "--from", today, "--to", today, "--format", "csv", stdout=out
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1
    row = rows[0]
    assert row["canal"] == "Espace adhérent" and row["reclamant"] == "Adhérent"
    assert row["issue"].startswith("Fondée") and row["cause_premiere"] == "Erreur de lot"
    assert row["accusee_le"] == row["repondue_le"] == today
    text = out.getvalue()
    assert alice.person.nir not in text
    assert alice.mandates.get().iban not in text


def test_register_rejects_bad_dates():
    with pytest.raises(CommandError, match="date invalide"):
        call_command("complaints_register", "--from", "01/11/2026", "--to", "2026-11-30")
    with pytest.raises(CommandError, match="doit suivre"):
        call_command("complaints_register", "--from", "2026-11-30", "--to", "2026-11-01")
