"""Rights requests from people without an account: held until the e-mail address is verified
by a single-use, expiring link; then in the staff queue, due one month from receipt; staff attach
the request to the person it concerns later (audited)."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.core import mail

from mutualis.audit.models import Event
from mutualis.backoffice.testing import login_verified, page_text
from mutualis.rights.models import Channel, PendingRequest, RightsRequest, Status

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FORM = "/vos-droits/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def send(client, **overrides):
    data = {
        "kind": "access",
        "capacity": "self",
        "name": "Paul Girard",
        "email": "paul.girard@example.org",
        "message": "J'étais adhérent jusqu'en 2021.",
        **overrides,
    }
    return client.post(FORM, data)


def link_in_last_mail() -> str:
    return re.search(r"http://\S+/vos-droits/confirmer/\S+/", mail.outbox[-1].body).group(0)


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_a_request_is_held_until_the_address_is_verified_then_queued_from_its_receipt(
    client, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(at(2027, 1, 31, 22), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = send(client)
        assert response.status_code == 302 and response["Location"] == "/vos-droits/envoyee/"
    assert not RightsRequest.objects.exists()  # nothing in the queue yet
    assert PendingRequest.objects.count() == 1
    link = link_in_last_mail()
    assert mail.outbox[-1].to == ["paul.girard@example.org"]
    assert PendingRequest.objects.get().token_hash not in link  # only a hash is stored

    with time_machine.travel(at(2027, 2, 1, 8), tick=False):
        assert "Confirmer ma demande" in client.get(path_of(link)).content.decode()
        assert not RightsRequest.objects.exists()  # a GET (a link preview) confirms nothing
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(path_of(link))
    request = RightsRequest.objects.get()
    assert done.status_code == 200 and request.reference in done.content.decode()
    assert request.channel == Channel.WEB_FORM and request.person is None
    assert request.received_at == at(2027, 1, 31, 22)  # received when sent
    assert request.due_date == datetime.date(2027, 2, 28)  # one month from receipt
    assert request.status == Status.RECEIVED and not request.identity_verified
    assert not PendingRequest.objects.exists()
    assert Event.objects.filter(tag="rights:pending:verify").count() == 1

    again = client.post(path_of(link))  # single use
    assert again.status_code == 400 and "déjà servi" in again.content.decode()
    assert RightsRequest.objects.count() == 1


def test_an_expired_link_files_nothing(client, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(at(2027, 3, 1, 9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send(client)
    link = link_in_last_mail()
    with time_machine.travel(at(2027, 3, 2, 9, 1), tick=False):
        response = client.post(path_of(link))
    assert response.status_code == 400 and "expiré" in response.content.decode()
    assert not RightsRequest.objects.exists() and not PendingRequest.objects.exists()


def test_the_form_is_rate_limited_per_address(client, settings):
    settings.MUTUALIS_CONTACT_RATE_LIMIT = 2
    from django.core.cache import cache

    cache.clear()
    assert send(client).status_code == 302
    assert send(client).status_code == 302
    refused = send(client)
    assert refused.status_code == 429 and "momentanément indisponible" in page_text(refused)
    assert PendingRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": ""}, "Ce champ est obligatoire"),
        ({"email": "pas-une-adresse"}, "adresse électronique valide"),
        ({"kind": "consent_withdrawal"}, "Sélectionnez un choix valide"),
        ({"message": "mon NIR 295109912611193"}, "numéro de sécurité sociale"),
    ],
)
def test_bad_input_is_refused_in_french_and_holds_nothing(client, data, message):
    from django.core.cache import cache

    cache.clear()
    response = send(client, **data)
    assert response.status_code == 400 and message in page_text(response)
    assert not PendingRequest.objects.exists()


def test_staff_attach_a_request_to_the_person_it_concerns(
    client, alice, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(client, email="alice.ancienne@example.org")
    client.post(path_of(link_in_last_mail()))
    request = RightsRequest.objects.get()
    login_verified(client, bob)
    page = page_text(client.get(f"/gestion/droits/demandes/{request.pk}/"))
    assert "Rattacher à la personne concernée" in page
    unknown = client.post(
        f"/gestion/droits/demandes/{request.pk}/rattacher/", {"rattacher-person_ref": "A999999999"}
    )
    assert unknown.status_code == 400 and "Aucun adhérent ne porte ce numéro." in page_text(unknown)
    response = client.post(
        f"/gestion/droits/demandes/{request.pk}/rattacher/",
        {"rattacher-person_ref": alice.number},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.person_id == alice.person_id and request.subject_id == str(alice.person_id)
    event = Event.objects.get(tag="rights:request:attach")
    assert event.subject_id == str(alice.person_id) and event.actor == f"user:{bob.pk}"
    assert "Rattacher à la personne" not in page_text(
        client.get(f"/gestion/droits/demandes/{request.pk}/")
    )
