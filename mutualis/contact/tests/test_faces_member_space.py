"""« Écrire à la mutuelle » in the member space: own threads only, new messages, replies."""

from __future__ import annotations

import datetime
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mutualis.contact import services
from mutualis.contact.models import (
    Channel,
    ComplainantType,
    Complaint,
    Direction,
    Inquiry,
    Message,
    Status,
)
from mutualis.contact.tests.conftest import EXE, PNG
from mutualis.privacy import retention

pytestmark = pytest.mark.django_db

LIST = "/espace/messages/"
NEW = "/espace/messages/nouveau/"


def _thread_url(inquiry: Inquiry) -> str:
    return f"/espace/messages/{inquiry.pk}/"


def _body(response) -> str:
    return html.unescape(response.content.decode())


def _thread_of(member, subject="Attestation de tiers payant", body="Pouvez-vous m'envoyer…"):
    return services.open_inquiry(
        channel=Channel.MEMBER_SPACE, subject=subject, body=body, person=member.person
    )


@pytest.fixture
def dave_thread(dave):
    return _thread_of(dave, subject="Question de Dave sur ses lunettes", body="Secret de Dave")


def _pages(alice) -> list[str]:
    return [LIST, NEW, _thread_url(_thread_of(alice))]


# --- Who may open the pages --------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, alice):
    for url in _pages(alice):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/espace/connexion/?next={url}"


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_a_staff_account_is_refused(client, alice, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for url in _pages(alice):
        assert client.get(url).status_code == 403, url


def test_a_member_opens_the_pages_and_they_are_never_cached(alice_client, alice):
    for url in _pages(alice):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_the_member_space_links_to_the_messages(alice_client):
    assert f'href="{LIST}"' in _body(alice_client.get("/espace/"))


# --- Leaks -------------------------------------------------------------------------------


def test_alice_sees_only_her_own_threads(alice_client, alice, dave_thread):
    mine = _thread_of(alice)
    body = _body(alice_client.get(LIST))
    assert mine.subject in body and mine.reference in body
    assert dave_thread.subject not in body and dave_thread.reference not in body


def test_alice_cannot_open_dave_s_thread(alice_client, dave_thread):
    response = alice_client.get(_thread_url(dave_thread))
    assert response.status_code == 404
    assert "Secret de Dave" not in _body(response)


def test_alice_cannot_reply_to_dave_s_thread(alice_client, dave_thread):
    response = alice_client.post(_thread_url(dave_thread), {"body": "Je m'immisce"})
    assert response.status_code == 404
    assert dave_thread.messages.count() == 1
    assert not Message.objects.filter(body="Je m'immisce").exists()


def test_posting_dave_s_ids_with_a_new_message_still_writes_as_alice(alice_client, alice, dave):
    data = {
        "subject": "Ma question",
        "body": "Bonjour",
        "person": str(dave.person.pk),
        "person_id": str(dave.person.pk),
        "member": str(dave.pk),
    }
    assert alice_client.post(NEW, data).status_code == 302
    assert Inquiry.objects.get().person_id == alice.person.pk


def test_an_unknown_thread_is_a_404(alice_client):
    import uuid

    assert alice_client.get(f"/espace/messages/{uuid.uuid4()}/").status_code == 404


# --- Writing -----------------------------------------------------------------------------


def test_a_new_message_opens_a_member_space_thread(alice_client, alice):
    upload = SimpleUploadedFile("ordonnance.png", PNG, content_type="image/png")
    response = alice_client.post(
        NEW, {"subject": "Remboursement", "body": "Où en est-il ?", "attachment": upload}
    )
    inquiry = Inquiry.objects.get()
    assert response.status_code == 302 and response["Location"] == _thread_url(inquiry)
    assert inquiry.channel == Channel.MEMBER_SPACE and inquiry.person_id == alice.person.pk
    message = inquiry.messages.get()
    assert message.body == "Où en est-il ?"
    assert message.attachments.get().content_type == "image/png"
    page = _body(alice_client.get(response["Location"]))
    assert "bien été envoyé" in page and inquiry.reference in page
    assert "ordonnance.png" in page


def test_the_reclamation_option_qualifies_the_thread_at_once(alice_client):
    alice_client.post(
        NEW, {"subject": "Prélèvement en double", "body": "Inadmissible.", "is_complaint": "on"}
    )
    complaint = Complaint.objects.get()
    assert complaint.complainant_type == ComplainantType.MEMBER
    assert complaint.reason == "Prélèvement en double"


def test_a_fake_image_and_an_overlong_message_are_refused(alice_client, settings):
    settings.MUTUALIS_MESSAGE_MAX_CHARS = 50
    upload = SimpleUploadedFile("photo.png", EXE, content_type="image/png")
    response = alice_client.post(NEW, {"subject": "x", "body": "y" * 51, "attachment": upload})
    assert response.status_code == 200
    body = _body(response)
    assert "n'est pas d'un type accepté" in body and "au plus 50 caractères" in body
    assert not Inquiry.objects.exists()


def test_a_reply_joins_the_thread_and_reopens_it(alice_client, alice, bob):
    inquiry = _thread_of(alice)
    services.answer(inquiry=inquiry, body="Voici la réponse.", actor=bob)
    response = alice_client.post(_thread_url(inquiry), {"body": "Merci, mais encore ?"})
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.OPEN
    last = inquiry.messages.order_by("at").last()
    assert (last.direction, last.channel, last.body) == (
        Direction.INBOUND,
        Channel.MEMBER_SPACE,
        "Merci, mais encore ?",
    )


def test_the_thread_shows_every_message_both_ways(alice_client, alice, bob):
    inquiry = _thread_of(alice, body="Ma question initiale")
    services.answer(inquiry=inquiry, body="La réponse de la mutuelle", actor=bob)
    body = _body(alice_client.get(_thread_url(inquiry)))
    assert "Ma question initiale" in body and "La réponse de la mutuelle" in body
    assert "Réponse de la mutuelle" in body and "Votre message" in body
    assert bob.email not in body  # staff stay anonymous to members


def test_an_erased_email_shows_when_its_content_was_erased(alice_client, alice):
    inquiry = services.open_inquiry(
        channel=Channel.EMAIL,
        subject="Courriel",
        body="Contenu du courriel",
        person=alice.person,
        received_at=timezone.now() - datetime.timedelta(days=100),
    )
    retention.enforce(only_app="contact")  # two months passed: the body goes
    erased_on = Message.objects.get().content_erased_at
    body = _body(alice_client.get(_thread_url(inquiry)))
    assert "Contenu du courriel" not in body
    assert f"Contenu effacé le {timezone.localtime(erased_on):%-d}" in body


def test_an_archived_complaint_is_read_only(alice_client, alice, bob):
    inquiry = _thread_of(alice)
    complaint = services.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason="Délai"
    )
    Complaint.objects.filter(pk=complaint.pk).update(archived_at=timezone.now())
    page = _body(alice_client.get(_thread_url(inquiry)))
    assert "Cette réclamation est close" in page and 'name="body"' not in page
    alice_client.post(_thread_url(inquiry), {"body": "Encore moi"})
    assert inquiry.messages.count() == 1
