"""Inquiries in the back office: permissions, service scoping, answers, registration, files."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.testing import login_unverified
from mutualis.contact import services
from mutualis.contact.inbound import ingest
from mutualis.contact.models import (
    Attachment,
    Channel,
    ComplainantType,
    Complaint,
    Inquiry,
    Status,
)
from mutualis.contact.services import IncomingFile
from mutualis.contact.tests.conftest import EXE, PDF, new_staff
from mutualis.lib import french

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    return french.plain(html.unescape(response.content.decode()))


def _inquiry(person=None, **kwargs) -> Inquiry:
    defaults = {
        "channel": Channel.WEB_FORM,
        "subject": "Question sur ma cotisation",
        "body": "Corps de la question",
        "person": person,
        "contact_name": "" if person else "Jeanne Visiteuse",
        "contact_email": "" if person else "jeanne@example.net",
        "files": [IncomingFile("piece.pdf", PDF)],
    }
    defaults.update(kwargs)
    return services.open_inquiry(**defaults)


# --- One permission test per view --------------------------------------------------------


@dataclass(frozen=True)
class View:
    name: str
    method: str
    allowed: str  # a role holding the permission
    refused: str  # a role without it


VIEWS = [
    View("inquiry_queue", "get", "relation_adherent", "admin"),
    View("inquiry_register", "get", "relation_adherent", "gestion"),
    View("inquiry_detail", "get", "relation_adherent", "admin"),
    View("inquiry_answer", "post", "relation_adherent", "admin"),
    View("inquiry_status", "post", "relation_adherent", "admin"),
    View("inquiry_assign", "post", "relation_adherent", "admin"),
    View("inquiry_qualify", "post", "reclamations", "relation_adherent"),
    View("attachment_download", "get", "relation_adherent", "admin"),
    View("complaint_queue", "get", "reclamations", "relation_adherent"),
    View("complaint_acknowledge", "post", "reclamations", "relation_adherent"),
    View("complaint_close", "post", "reclamations", "relation_adherent"),
]
POST_DATA = {
    "inquiry_answer": {"body": "Réponse"},
    "inquiry_status": {"status": Status.WAITING},
    "inquiry_assign": {"service": "gestion"},
    "inquiry_qualify": {"complainant_type": ComplainantType.PROSPECT, "reason": "Délai"},
    "complaint_close": {"outcome": "upheld"},
}


@pytest.fixture
def target(db):
    """A relation-adhérent thread with a file, qualified as a complaint (both queues see it)."""
    inquiry = _inquiry()
    services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Délai"
    )
    services.assign(inquiry=inquiry, service="relation_adherent")
    return Inquiry.objects.get(pk=inquiry.pk)


def _url(view: View, inquiry: Inquiry) -> str:
    if view.name in {"inquiry_queue", "inquiry_register", "complaint_queue"}:
        return reverse(f"backoffice:{view.name}")
    kwargs = {"inquiry_id": inquiry.pk}
    if view.name == "attachment_download":
        kwargs["attachment_id"] = Attachment.objects.get(message__inquiry=inquiry).pk
    return reverse(f"backoffice:{view.name}", kwargs=kwargs)


def _call(client, view: View, inquiry: Inquiry):
    if view.method == "post":
        return client.post(_url(view, inquiry), POST_DATA.get(view.name, {}))
    return client.get(_url(view, inquiry))


@pytest.fixture(params=VIEWS, ids=lambda view: view.name)
def view(request):
    return request.param


def test_anonymous_is_sent_to_the_login(client, view, target):
    response = _call(client, view, target)
    assert response.status_code == 302
    assert response.url.startswith(reverse("backoffice:login"))


def test_a_member_is_refused(client, view, target, alice):
    login_unverified(client, alice.account)
    assert _call(client, view, target).status_code == 403


def test_a_role_without_the_permission_is_refused(view, target, as_staff):
    response = _call(as_staff(new_staff(view.refused)), view, target)
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]


def test_a_role_with_the_permission_is_served(view, target, as_staff):
    response = _call(as_staff(new_staff(view.allowed)), view, target)
    assert response.status_code == (302 if view.method == "post" else 200)
    assert "no-store" in response["Cache-Control"]


def test_the_home_page_links_to_the_queues_the_role_may_open(as_staff, charlie, rita, staff):
    relation = _body(as_staff(charlie).get("/gestion/"))
    assert "/gestion/demandes/" in relation and "/gestion/demandes/enregistrer/" in relation
    assert "/gestion/reclamations/" not in relation
    assert "/gestion/reclamations/" in _body(as_staff(rita).get("/gestion/"))
    admin = _body(as_staff(staff("admin")).get("/gestion/"))
    assert "/gestion/demandes/" not in admin


# --- Service scoping ---------------------------------------------------------------------


def test_the_queue_holds_the_viewer_s_service_only(as_staff, charlie, bob):
    ours = _inquiry(subject="Pour la relation adhérent")
    theirs = _inquiry(subject="Pour la gestion", service="gestion")
    relation = _body(as_staff(charlie).get("/gestion/demandes/"))
    assert ours.reference in relation and theirs.reference not in relation
    dpo = _body(as_staff(bob).get("/gestion/demandes/"))
    assert ours.reference in dpo and theirs.reference in dpo


def test_another_service_s_thread_and_files_are_a_404(as_staff, charlie):
    theirs = _inquiry(service="gestion", body="Réservé à la gestion")
    client = as_staff(charlie)
    response = client.get(f"/gestion/demandes/{theirs.pk}/")
    assert response.status_code == 404 and "Réservé à la gestion" not in _body(response)
    attachment = Attachment.objects.get(message__inquiry=theirs)
    assert client.get(f"/gestion/demandes/{theirs.pk}/pieces/{attachment.pk}/").status_code == 404
    assert client.post(f"/gestion/demandes/{theirs.pk}/repondre/", {"body": "x"}).status_code == 404
    assert theirs.messages.count() == 1


def test_an_attachment_is_reached_only_through_its_own_thread(as_staff, charlie):
    ours = _inquiry()
    theirs = _inquiry(service="gestion")
    attachment = Attachment.objects.get(message__inquiry=theirs)
    url = f"/gestion/demandes/{ours.pk}/pieces/{attachment.pk}/"
    assert as_staff(charlie).get(url).status_code == 404


def test_the_queue_sorts_by_answer_date_and_flags_late_threads(as_staff, charlie):
    import datetime

    import time_machine

    with time_machine.travel(datetime.date(2026, 3, 2), tick=False):
        old = _inquiry(subject="Ancienne demande")
    recent = _inquiry(subject="Demande récente")
    response = as_staff(charlie).get("/gestion/demandes/")
    rows = response.context["rows"]
    assert [row["inquiry"].pk for row in rows] == [old.pk, recent.pk]
    assert [row["late"] for row in rows] == [True, False]
    body = _body(response)
    assert body.count('class="late"') == 1 and body.count("en retard") >= 2


def test_opening_a_thread_is_audited_and_shows_no_nir_or_iban(as_staff, charlie, alice):
    from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban

    inquiry = _inquiry(person=alice.person, channel=Channel.MEMBER_SPACE)
    response = as_staff(charlie).get(f"/gestion/demandes/{inquiry.pk}/")
    assert response.status_code == 200
    assert "Corps de la question" in _body(response)
    assert_no_full_nir_or_iban(response, alice)
    event = Event.objects.get(tag="contact:inquiry:read")
    assert event.subject_id == str(alice.person.pk)
    assert event.actor == f"user:{charlie.pk}"


# --- Handling ----------------------------------------------------------------------------


def test_an_answer_goes_by_email_and_shows_in_the_member_space(
    as_staff, charlie, alice, client, django_capture_on_commit_callbacks
):
    inquiry = _inquiry(person=alice.person, channel=Channel.MEMBER_SPACE)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_staff(charlie).post(
            f"/gestion/demandes/{inquiry.pk}/repondre/",
            {"body": "Votre attestation est jointe à votre espace."},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [alice.person.email]
    assert inquiry.reference in mail.outbox[0].subject
    assert Inquiry.objects.get(pk=inquiry.pk).status == Status.ANSWERED
    client.force_login(alice.account)
    page = _body(client.get(f"/espace/messages/{inquiry.pk}/"))
    assert "Votre attestation est jointe à votre espace." in page


def test_an_empty_answer_is_refused_in_french(as_staff, charlie):
    inquiry = _inquiry()
    response = as_staff(charlie).post(f"/gestion/demandes/{inquiry.pk}/repondre/", {"body": " "})
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in _body(response)
    assert inquiry.messages.count() == 1


def test_an_answer_can_close_the_thread(as_staff, charlie):
    inquiry = _inquiry()
    as_staff(charlie).post(
        f"/gestion/demandes/{inquiry.pk}/repondre/", {"body": "Réponse", "close": "on"}
    )
    assert Inquiry.objects.get(pk=inquiry.pk).status == Status.CLOSED


def test_a_forbidden_status_change_is_explained_in_french(as_staff, charlie):
    inquiry = _inquiry()
    services.change_status(inquiry=inquiry, status=Status.CLOSED)
    client = as_staff(charlie)
    response = client.post(
        f"/gestion/demandes/{inquiry.pk}/etat/", {"status": Status.ANSWERED}, follow=True
    )
    assert "« Clos » ne peut pas passer à « Répondu »" in _body(response)
    assert Inquiry.objects.get(pk=inquiry.pk).status == Status.CLOSED
    client.post(f"/gestion/demandes/{inquiry.pk}/etat/", {"status": Status.OPEN})
    assert Inquiry.objects.get(pk=inquiry.pk).status == Status.OPEN


def test_a_thread_passed_to_another_service_leaves_the_queue(as_staff, charlie):
    inquiry = _inquiry()
    client = as_staff(charlie)
    response = client.post(f"/gestion/demandes/{inquiry.pk}/service/", {"service": "cotisations"})
    assert response.status_code == 302 and response["Location"] == "/gestion/demandes/"
    assert Inquiry.objects.get(pk=inquiry.pk).service == "cotisations"
    assert Event.objects.filter(tag="contact:inquiry:assign").exists()
    assert client.get(f"/gestion/demandes/{inquiry.pk}/").status_code == 404
    same = client.post(f"/gestion/demandes/{inquiry.pk}/service/", {"service": "cotisations"})
    assert same.status_code == 404


def test_the_reclamations_service_qualifies_a_thread(as_staff, rita):
    inquiry = _inquiry(service="reclamations")
    response = as_staff(rita).post(
        f"/gestion/demandes/{inquiry.pk}/reclamation/",
        {"complainant_type": ComplainantType.PROSPECT, "product": "Essentielle", "reason": "Délai"},
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get(inquiry=inquiry)
    assert (complaint.product, complaint.reason, complaint.qualified_by) == (
        "Essentielle",
        "Délai",
        rita,
    )


def test_qualifying_without_a_reason_is_refused(as_staff, rita):
    inquiry = _inquiry(service="reclamations")
    response = as_staff(rita).post(
        f"/gestion/demandes/{inquiry.pk}/reclamation/",
        {"complainant_type": ComplainantType.PROSPECT, "reason": ""},
    )
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_complaint_details_are_hidden_from_a_service_without_the_category(as_staff, rita, staff):
    inquiry = _inquiry()
    services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Motif confidentiel"
    )
    assert "Motif confidentiel" in _body(as_staff(rita).get(f"/gestion/demandes/{inquiry.pk}/"))
    services.assign(inquiry=inquiry, service="gestion")
    page = _body(as_staff(staff("gestion")).get(f"/gestion/demandes/{inquiry.pk}/"))
    assert "Corps de la question" in page
    assert "Motif confidentiel" not in page and "suivie par le service Réclamations" in page


# --- Registering a call, a letter, a visit -----------------------------------------------


def _register(**changes) -> dict:
    data = {
        "channel": Channel.PHONE,
        "received_on": "",
        "member": "",
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
        "contact_address": "",
        "subject": "Appel sur un remboursement",
        "body": "La personne demande où en est son remboursement.",
        "service": "relation_adherent",
    }
    data.update(changes)
    return data


def test_a_phone_call_is_registered_for_a_member_found_by_number(as_staff, charlie, alice):
    from django.utils import timezone

    data = _register(member=alice.number.lower(), received_on=timezone.localdate().isoformat())
    response = as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/gestion/demandes/{inquiry.pk}/"
    assert inquiry.channel == Channel.PHONE and inquiry.person_id == alice.person.pk
    assert inquiry.messages.get().author == charlie


def test_a_letter_is_registered_with_its_scan_for_a_non_member(as_staff, charlie):
    scan = SimpleUploadedFile("courrier.pdf", PDF, content_type="application/pdf")
    data = _register(
        channel=Channel.LETTER,
        received_on="2026-01-05",
        contact_name="Mme Leroy",
        contact_address="3 place du Marché\n69001 Lyon",
        attachment=scan,
    )
    response = as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.LETTER and inquiry.contact_name == "Mme Leroy"
    assert str(inquiry.received_at.date()) == "2026-01-05"
    attachment = Attachment.objects.get(message__inquiry=inquiry)
    assert attachment.content_type == "application/pdf" and attachment.filename == "courrier.pdf"


def test_a_member_found_by_email_and_a_visit(as_staff, charlie, alice):
    from django.utils import timezone

    data = _register(
        channel=Channel.IN_PERSON,
        member=alice.person.email.upper(),
        received_on=timezone.localdate().isoformat(),
    )
    as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.IN_PERSON and inquiry.person_id == alice.person.pk


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"contact_name": ""}, "Indiquez le nom de la personne"),
        ({"member": "A000000000"}, "Aucun adhérent ne correspond"),
        ({"member": "Martin"}, "numéro d'adhérent (A suivi de 9 chiffres)"),
        ({"received_on": "2999-01-01", "contact_name": "X"}, "dans le futur"),
        ({"contact_name": "X", "channel": Channel.EMAIL}, "Sélectionnez un choix valide"),
    ],
)
def test_registration_errors_are_explained(as_staff, charlie, changes, error):
    data = _register(**{"received_on": "2026-01-05", **changes})
    response = as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    assert response.status_code == 400
    assert error in _body(response)
    assert not Inquiry.objects.exists()


def test_a_fake_scan_is_refused(as_staff, charlie):
    scan = SimpleUploadedFile("courrier.pdf", EXE, content_type="application/pdf")
    data = _register(received_on="2026-01-05", contact_name="X", attachment=scan)
    response = as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    assert response.status_code == 400 and "n'est pas d'un type accepté" in _body(response)
    assert not Inquiry.objects.exists()


def test_a_nir_typed_in_the_member_field_is_refused_and_not_written_back(as_staff, charlie):
    data = _register(received_on="2026-01-05", member="2 95 10 99 126 111 93")
    response = as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    assert response.status_code == 400
    body = _body(response)
    assert "ne saisissez ni numéro de sécurité sociale" in body
    assert "295109912611193" not in body.replace(" ", "")


def test_the_reclamations_service_registers_a_complaint_call(as_staff, rita):
    data = _register(
        received_on="2026-01-05",
        contact_name="M. Petit",
        service="reclamations",
        is_complaint="on",
        complainant_type=ComplainantType.FORMER_MEMBER,
        reason="Résiliation non prise en compte",
    )
    assert as_staff(rita).post("/gestion/demandes/enregistrer/", data).status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.received_on.isoformat() == "2026-01-05"
    assert complaint.complainant_type == ComplainantType.FORMER_MEMBER


def test_the_complaint_fields_are_offered_only_to_those_who_may_qualify(as_staff, charlie, rita):
    assert 'name="is_complaint"' not in _body(
        as_staff(charlie).get("/gestion/demandes/enregistrer/")
    )
    assert 'name="is_complaint"' in _body(as_staff(rita).get("/gestion/demandes/enregistrer/"))
    data = _register(received_on="2026-01-05", contact_name="X", is_complaint="on", reason="r")
    as_staff(charlie).post("/gestion/demandes/enregistrer/", data)
    assert not Complaint.objects.exists()


# --- Attachments -------------------------------------------------------------------------


def test_an_attachment_downloads_as_a_file_with_its_sniffed_type(as_staff, charlie):
    inquiry = _inquiry(files=[IncomingFile("scan « janvier ».pdf", PDF)])
    attachment = Attachment.objects.get()
    response = as_staff(charlie).get(f"/gestion/demandes/{inquiry.pk}/pieces/{attachment.pk}/")
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''scan%20%C2%AB%20janvier%20%C2%BB.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = Event.objects.get(tag="contact:attachment:read")
    assert (
        event.actor == f"user:{charlie.pk}"
        and event.target == f"contact.attachment:{attachment.pk}"
    )


def test_an_email_attachment_of_another_type_downloads_as_bytes(as_staff, charlie):
    from pathlib import Path

    raw = (Path(__file__).parent / "fixtures" / "multipart_attachments.eml").read_bytes()
    message, _ = ingest(raw)
    client = as_staff(charlie)
    for attachment in Attachment.objects.filter(message=message):
        response = client.get(f"/gestion/demandes/{message.inquiry_id}/pieces/{attachment.pk}/")
        assert response.status_code == 200
        if attachment.content_type not in {"application/pdf", "image/jpeg", "image/png"}:
            assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
