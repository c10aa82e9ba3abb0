"""The réclamations queue: deadline order, late complaints, acknowledgement, closure, archive."""

from __future__ import annotations

import datetime
import html
import re
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.contact import services
from mutualis.contact.models import Channel, ComplainantType, Complaint, Outcome

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
QUEUE = "/gestion/reclamations/"
TODAY = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)  # a Monday


def _body(response) -> str:
    return html.unescape(response.content.decode())


def _complaint(received: datetime.date, *, subject: str, acknowledged: bool = False) -> Complaint:
    at = datetime.datetime.combine(received, datetime.time(9, 0), tzinfo=PARIS)
    with time_machine.travel(at, tick=False):
        inquiry = services.open_inquiry(
            channel=Channel.PHONE,
            subject=subject,
            body="Appel : mécontent.",
            contact_name="Jean Visiteur",
            contact_email="jean@example.com",
        )
        complaint = services.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason=subject
        )
        if acknowledged:
            complaint = services.acknowledge_complaint(complaint=complaint, actor=None)
    return complaint


@pytest.fixture
def queue(db):
    """Four open complaints whose next deadlines fall on both sides of TODAY."""
    return {
        # acknowledged, answer due 05/03
        "answer_soon": _complaint(datetime.date(2026, 1, 5), subject="A", acknowledged=True),
        # acknowledgement due 06/03
        "ack_soon": _complaint(datetime.date(2026, 2, 20), subject="B"),
        # acknowledgement was due 24/02: late
        "ack_late": _complaint(datetime.date(2026, 2, 10), subject="C"),
        # acknowledged, answer was due 20/02: late
        "answer_late": _complaint(datetime.date(2025, 12, 20), subject="D", acknowledged=True),
    }


def test_the_queue_puts_the_nearest_deadline_first_and_marks_late_ones(queue, as_staff, rita):
    with time_machine.travel(TODAY, tick=False):
        response = as_staff(rita).get(QUEUE)
    assert response.status_code == 200
    rows = response.context["rows"]
    order = ["answer_late", "ack_late", "answer_soon", "ack_soon"]
    assert [row["complaint"].pk for row in rows] == [queue[name].pk for name in order]
    assert [row["late"] for row in rows] == [True, True, False, False]
    assert [row["deadline_kind"] for row in rows] == [
        "réponse",
        "accusé de réception",
        "réponse",
        "accusé de réception",
    ]
    body = _body(response)
    # Late rows stand out by a class and by words, not by colour alone.
    late_rows = re.findall(r'<tr class="late">.*?</tr>', body, flags=re.S)
    assert len(late_rows) == 2 and all("en retard" in row for row in late_rows)
    assert "2 réclamations en retard" in body


def test_a_complaint_becomes_late_the_day_after_its_deadline(as_staff, rita):
    complaint = _complaint(datetime.date(2026, 2, 16), subject="E")  # ack due 02/03
    assert complaint.acknowledgement_due == datetime.date(2026, 3, 2)
    with time_machine.travel(TODAY, tick=False):
        assert as_staff(rita).get(QUEUE).context["rows"][0]["late"] is False
    with time_machine.travel(TODAY + datetime.timedelta(days=1), tick=False):
        assert as_staff(rita).get(QUEUE).context["rows"][0]["late"] is True


def test_acknowledging_sends_the_letter_and_moves_the_deadline(
    queue, as_staff, rita, django_capture_on_commit_callbacks
):
    complaint = queue["ack_late"]
    with django_capture_on_commit_callbacks(execute=True):
        response = as_staff(rita).post(
            f"/gestion/reclamations/{complaint.inquiry_id}/accuse-reception/"
        )
    assert response.status_code == 302 and response["Location"] == QUEUE
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is not None
    assert len(mail.outbox) == 1 and "Accusé de réception" in mail.outbox[0].subject
    assert Event.objects.filter(tag="contact:complaint:acknowledge").count() == 3
    # Acknowledged twice? Nothing more is sent.
    as_staff(rita).post(f"/gestion/reclamations/{complaint.inquiry_id}/accuse-reception/")
    assert len(mail.outbox) == 1


def test_a_complaint_is_closed_only_once_answered(queue, as_staff, rita):
    complaint = queue["answer_soon"]
    client = as_staff(rita)
    url = f"/gestion/reclamations/{complaint.inquiry_id}/clore/"
    response = client.post(url, {"outcome": Outcome.UPHELD}, follow=True)
    assert "n'a pas encore reçu de réponse" in _body(response)
    assert Complaint.objects.get(pk=complaint.pk).closed_at is None
    answer = client.post(
        f"/gestion/demandes/{complaint.inquiry_id}/repondre/", {"body": "Nous vous remboursons."}
    )
    assert answer.status_code == 302
    queue_page = client.get(QUEUE)
    assert complaint.pk in [row["complaint"].pk for row in queue_page.context["to_close"]]
    assert complaint.pk not in [row["complaint"].pk for row in queue_page.context["rows"]]
    client.post(
        url, {"outcome": Outcome.PARTIAL, "mediation": "on", "root_cause": "Délai de gestion"}
    )
    complaint.refresh_from_db()
    assert (complaint.outcome, complaint.mediation, complaint.root_cause) == (
        Outcome.PARTIAL,
        True,
        "Délai de gestion",
    )
    assert complaint.closed_at is not None


def test_a_bad_outcome_is_refused(queue, as_staff, rita, bob):
    complaint = queue["answer_soon"]
    services.answer(inquiry=complaint.inquiry, body="Réponse", actor=bob)
    response = as_staff(rita).post(
        f"/gestion/reclamations/{complaint.inquiry_id}/clore/", {"outcome": "gagne"}, follow=True
    )
    assert "n'est pas close" in _body(response)
    assert Complaint.objects.get(pk=complaint.pk).closed_at is None


def test_an_archived_complaint_is_seen_by_the_dpo_alone(queue, as_staff, rita, bob):
    complaint = queue["answer_soon"]
    services.answer(inquiry=complaint.inquiry, body="Réponse", actor=bob)
    services.close_complaint(complaint=complaint, outcome=Outcome.UPHELD)
    Complaint.objects.filter(pk=complaint.pk).update(archived_at=timezone.now())
    reference = complaint.inquiry.reference
    thread = f"/gestion/demandes/{complaint.inquiry_id}/"

    reclamations = as_staff(rita)
    assert reference not in _body(reclamations.get(QUEUE))
    assert reference not in _body(reclamations.get("/gestion/demandes/?etat=toutes"))
    assert reclamations.get(thread).status_code == 404
    ack = reclamations.post(f"/gestion/reclamations/{complaint.inquiry_id}/accuse-reception/")
    assert ack.status_code == 404

    dpo = as_staff(bob)
    page = dpo.get(QUEUE)
    assert [c.pk for c in page.context["archived"]] == [complaint.pk]
    assert "Archive intermédiaire" in _body(page) and reference in _body(page)
    assert dpo.get(thread).status_code == 200


def test_the_archive_section_is_not_shown_to_the_reclamations_service(as_staff, rita):
    response = as_staff(rita).get(QUEUE)
    assert response.context["archived"] is None
    assert "Archive intermédiaire" not in _body(response)
