"""The public contact form: it stores inquiries, and resists abuse without third parties."""

from __future__ import annotations

import datetime
import html
import re
import zoneinfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mutualis.audit.models import Event
from mutualis.contact.models import Attachment, Channel, ComplainantType, Complaint, Inquiry
from mutualis.contact.tests.conftest import EXE, PDF
from mutualis.web import ratelimit

pytestmark = pytest.mark.django_db
URL = "/contact/"
THANKS = "/contact/merci/"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _form(**changes) -> dict:
    data = {
        "name": "Jeanne Visiteuse",
        "email": "jeanne@example.net",
        "phone": "06 12 34 56 78",
        "who": "",
        "subject": "Tarif pour un couple",
        "message": "Bonjour, quel serait le tarif de la formule Essentielle pour deux ?",
        "site_web": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _body(response) -> str:
    return html.unescape(response.content.decode())


def test_the_form_page_shows_the_fields_the_notice_and_a_hidden_honeypot(client):
    response = client.get(URL)
    assert response.status_code == 200
    body = _body(response)
    for name in ("name", "email", "phone", "subject", "message", "attachment", "is_complaint"):
        assert f'name="{name}"' in body
    assert 'enctype="multipart/form-data"' in body and "csrfmiddlewaretoken" in body
    # The honeypot is hidden by a class of the stylesheet, never by an inline style.
    assert re.search(r'<div class="contact-trap" aria-hidden="true">\s*<label[^>]*>', body)
    assert 'name="site_web"' in body and " style=" not in body
    # The information notice: purpose 1-A, retention, rights, the policy.
    assert "section 1-A" in body and "3 ans" in body
    assert "droit d'accès" in body and "CNIL" in body
    assert 'href="/confidentialite/#finalite-inquiries"' in body


def test_the_stylesheet_hides_the_honeypot(client):
    response = client.get("/static/web/contact.css")
    try:
        assert response.status_code == 200
        assert b".contact-trap" in b"".join(response.streaming_content)
    finally:
        response.close()


def test_a_message_opens_a_web_form_inquiry_and_thanks_the_visitor(client):
    response = client.post(URL, _form())
    assert response.status_code == 302 and response["Location"] == THANKS
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.WEB_FORM and inquiry.person is None
    assert (inquiry.contact_name, inquiry.contact_email, inquiry.contact_phone) == (
        "Jeanne Visiteuse",
        "jeanne@example.net",
        "06 12 34 56 78",
    )
    assert inquiry.subject == "Tarif pour un couple"
    assert inquiry.messages.get().body.startswith("Bonjour, quel serait")
    assert not Complaint.objects.exists()
    assert Event.objects.filter(
        tag="contact:inquiry:create", target=f"contact.inquiry:{inquiry.pk}"
    )
    thanks = client.get(THANKS)
    assert thanks.status_code == 200 and "bien été envoyé" in _body(thanks)


def test_a_pdf_attachment_is_stored_with_the_type_read_from_its_bytes(client):
    upload = SimpleUploadedFile("devis.bin", PDF, content_type="application/octet-stream")
    assert client.post(URL, _form(attachment=upload)).status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf"
    assert attachment.filename == "devis.bin" and bytes(attachment.content) == PDF


def test_a_fake_pdf_is_refused(client):
    upload = SimpleUploadedFile("facture.pdf", EXE, content_type="application/pdf")
    response = client.post(URL, _form(attachment=upload))
    assert response.status_code == 200
    assert "n'est pas d'un type accepté" in _body(response)
    assert not Inquiry.objects.exists()


def test_an_attachment_over_the_size_limit_is_refused(client, settings):
    settings.MUTUALIS_UPLOAD_MAX_BYTES = 1000
    upload = SimpleUploadedFile("scan.pdf", PDF + b"0" * 5000, content_type="application/pdf")
    response = client.post(URL, _form(attachment=upload))
    assert response.status_code == 200
    assert "dépasse la taille maximale" in _body(response)
    assert not Inquiry.objects.exists()


def test_a_request_announcing_a_huge_body_is_refused_before_it_is_read(client, settings):
    settings.MUTUALIS_UPLOAD_MAX_BYTES = 100
    settings.MUTUALIS_MESSAGE_MAX_CHARS = 10
    upload = SimpleUploadedFile("scan.pdf", PDF + b"0" * 200_000, content_type="application/pdf")
    response = client.post(URL, _form(message="court", attachment=upload))
    assert response.status_code == 413
    assert "dépasse la taille maximale" in _body(response)
    assert not Inquiry.objects.exists()


def test_a_message_over_the_length_limit_is_refused(client, settings):
    settings.MUTUALIS_MESSAGE_MAX_CHARS = 200
    response = client.post(URL, _form(message="x" * 201))
    assert response.status_code == 200
    assert "au plus 200 caractères" in _body(response)
    assert not Inquiry.objects.exists()
    assert client.post(URL, _form(message="x" * 200)).status_code == 302


def test_a_filled_honeypot_pretends_success_and_stores_nothing(client):
    response = client.post(URL, _form(site_web="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == THANKS
    assert not Inquiry.objects.exists()
    assert not Event.objects.filter(tag__startswith="contact:").exists()


def test_the_sixth_message_within_an_hour_from_one_address_is_refused(client):
    start = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        for n in range(5):
            response = client.post(URL, _form(email=f"v{n}@example.net"))
            assert response.status_code == 302, n
        refused = client.post(URL, _form(email="v6@example.net"))
    assert refused.status_code == 429
    assert "Réessayez dans une heure" in _body(refused)
    assert Inquiry.objects.count() == 5
    # Another client address is not held back by this one.
    other = Client(REMOTE_ADDR="192.0.2.77")
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        assert other.post(URL, _form(email="w@example.net")).status_code == 302
    # The window slides: an hour after the first message, the address may write again.
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert client.post(URL, _form(email="v7@example.net")).status_code == 302


def test_one_email_address_is_limited_whatever_the_client_address():
    for n in range(5):
        sender = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert sender.post(URL, _form()).status_code == 302
    refused = Client(REMOTE_ADDR="198.51.100.99").post(URL, _form(email="JEANNE@example.net"))
    assert refused.status_code == 429
    assert Inquiry.objects.count() == 5


def test_ipv6_clients_are_counted_by_their_64_network():
    for n in range(5):
        sender = Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
        assert sender.post(URL, _form(email=f"v{n}@example.net")).status_code == 302
    same_network = Client(REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert same_network.post(URL, _form(email="z@example.net")).status_code == 429


def test_behind_the_proxy_the_last_forwarded_hop_is_the_client(settings):
    settings.MUTUALIS_BEHIND_PROXY = True
    for n in range(5):
        # A client forging the first hop changes nothing: the proxy appended the real one.
        sender = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9")
        assert sender.post(URL, _form(email=f"v{n}@example.net")).status_code == 302
    forged = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9")
    assert forged.post(URL, _form(email="x@example.net")).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.post(URL, _form(email="y@example.net")).status_code == 302


def test_the_cache_holds_neither_addresses_nor_emails_in_clear(client):
    client.post(URL, _form(email="Secret.Person@example.net"))
    for identity in ("secret.person@example.net", "127.0.0.1"):
        key = ratelimit._key("contact", identity)
        assert identity not in key and "secret" not in key
        assert isinstance(cache.get(key), list)  # one timestamp, nothing else
        assert len(cache.get(key)) == 1


def test_a_ticked_complaint_is_qualified_at_once(client):
    with time_machine.travel(datetime.datetime(2026, 11, 26, 9, 0, tzinfo=PARIS), tick=False):
        response = client.post(
            URL, _form(is_complaint="on", subject="Remboursement refusé sans raison")
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.complainant_type == ComplainantType.OTHER
    assert complaint.reason == "Remboursement refusé sans raison"
    assert complaint.acknowledgement_due == datetime.date(2026, 12, 10)
    assert complaint.inquiry.service == "reclamations"


def test_a_complainant_who_says_who_they_are_is_recorded_as_such(client):
    client.post(URL, _form(is_complaint="on", who=ComplainantType.FORMER_MEMBER))
    assert Complaint.objects.get().complainant_type == ComplainantType.FORMER_MEMBER


def test_the_form_is_protected_against_cross_site_requests():
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(URL, _form()).status_code == 403
    assert not Inquiry.objects.exists()


def test_a_browser_with_its_csrf_token_gets_through_even_with_an_oversized_file(settings):
    settings.MUTUALIS_UPLOAD_MAX_BYTES = 1000
    browser = Client(enforce_csrf_checks=True)
    browser.get(URL)
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * 5000, content_type="application/pdf")
    refused = browser.post(URL, {"csrfmiddlewaretoken": token, **_form(attachment=big)})
    assert refused.status_code == 200 and "dépasse la taille maximale" in _body(refused)
    small = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    accepted = browser.post(URL, {"csrfmiddlewaretoken": token, **_form(attachment=small)})
    assert accepted.status_code == 302
    assert Attachment.objects.get().content_type == "application/pdf"


def test_the_form_refuses_other_methods(client):
    assert client.put(URL).status_code == 405
    assert client.post(THANKS).status_code == 405


@pytest.mark.parametrize(
    "changes",
    [
        {"name": None, "email": None, "subject": None, "message": None},
        {"email": "pas une adresse"},
        {"name": "\x00", "message": "nul\x00octet"},
        {"message": "é" * 100_000},
        {"subject": "s" * 10_000},
        {"phone": "<script>alert(1)</script>"},
        {"who": "pirate"},
        {"is_complaint": "peut-être"},
        {"attachment": "pas un fichier"},
        {"name": ["a", "b"]},
        {"email": "a@" + "b" * 300 + ".fr"},
    ],
)
def test_garbage_never_breaks_the_form(client, changes):
    response = client.post(URL, _form(**changes))
    assert response.status_code in (200, 302, 400)
    if response.status_code == 200:
        assert "Le formulaire comporte" in _body(response)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=300),
    email=st.text(max_size=300),
    subject=st.text(max_size=300),
    message=st.text(max_size=600),
    phone=st.text(max_size=40),
)
def test_any_text_in_any_field_answers_without_a_server_error(
    client, name, email, subject, message, phone
):
    cache.clear()
    data = _form(name=name, email=email, subject=subject, message=message, phone=phone)
    response = client.post(URL, data)
    assert response.status_code < 500
