"""Each right filed by alice from the member space, end to end."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from mutualis.audit import record_disclosure
from mutualis.consent import services as consent
from mutualis.consent.models import Channel as ConsentChannel
from mutualis.consent.models import Source, Topic
from mutualis.members.models import Person
from mutualis.privacy import catalogue
from mutualis.rights import handlers, objection
from mutualis.rights.models import Kind, Outcome, RightsRequest, Status

pytestmark = pytest.mark.django_db


def _file(client, url: str, data=None, committed=None):
    if committed is None:
        return client.post(url, data or {})
    with committed():
        return client.post(url, data or {})


def _only_request(alice, kind) -> RightsRequest:
    return RightsRequest.objects.get(person=alice.person, kind=kind)


def test_the_rights_page_explains_each_right_and_names_the_cnil(alice_client):
    body = alice_client.get("/espace/droits/").content.decode()
    for title in (
        "copie de mes données",
        "rectifier",
        "effacer",
        "portabilité",
        "prospection",
        "consentement",
        "raisons personnelles",
        "Limiter",
        "décès",
    ):
        assert title in body
    assert "CNIL" in body and "Vous n'avez encore fait aucune demande." in body


def test_access_is_answered_at_once_with_the_nir_she_subscribed_with(
    alice_client, alice, mailoutbox, committed
):
    response = _file(alice_client, "/espace/droits/acces/", committed=committed)
    request = _only_request(alice, Kind.ACCESS)
    assert response.status_code == 302
    assert response["Location"] == f"/espace/droits/demandes/{request.pk}/"
    assert request.status == Status.ANSWERED and request.outcome == Outcome.GRANTED
    page = alice_client.get(response["Location"]).content.decode()
    assert "Notre réponse" in page and "CNIL" in page and "Copie de vos données" in page
    download = alice_client.get(f"/espace/droits/demandes/{request.pk}/copie/")
    assert download["Content-Type"] == "application/json"
    assert "attachment" in download["Content-Disposition"]
    assert alice.person.nir in download.content.decode()  # decrypted
    json.loads(download.content)
    [mail] = [m for m in mailoutbox if m.subject.startswith("Réponse")]
    assert mail.to == ["alice@example.org"] and not mail.attachments  # a link, never the NIR
    assert f"/espace/droits/demandes/{request.pk}/" in mail.body and "CNIL" in mail.body
    assert alice.person.nir not in mail.body
    # The list shows it, with its status and deadline.
    listing = alice_client.get("/espace/droits/").content.decode()
    assert request.reference in listing and "Répondue" in listing


def test_portability_gives_a_zip_of_json_and_csv(alice_client, alice, committed):
    response = _file(alice_client, "/espace/droits/portabilite/", committed=committed)
    request = _only_request(alice, Kind.PORTABILITY)
    assert request.status == Status.ANSWERED
    download = alice_client.get(f"/espace/droits/demandes/{request.pk}/copie/")
    assert download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert any(n.endswith(".json") for n in names) and any(n.endswith(".csv") for n in names)
    assert response.status_code == 302


def test_marketing_objection_is_immediate_and_excludes_her_from_every_audience(alice_client, alice):
    person = alice.person
    consent.grant(
        person=person,
        topic=Topic.OFFERS,
        channel=ConsentChannel.EMAIL,
        source=Source.MEMBER_SPACE,
        actor=alice.account,
    )
    audience = consent.marketing_audience(topic=Topic.OFFERS, channel=ConsentChannel.EMAIL)
    assert audience.filter(pk=person.pk).exists()
    alice_client.post("/espace/droits/opposition-prospection/")
    request = _only_request(alice, Kind.MARKETING_OBJECTION)
    assert request.status == Status.ANSWERED and request.outcome == Outcome.GRANTED
    assert consent.has_objected_to_marketing(person)
    for topic in (Topic.OFFERS, Topic.NEWSLETTER):
        audience = consent.marketing_audience(topic=topic, channel=ConsentChannel.EMAIL)
        assert not audience.filter(pk=person.pk).exists()


def test_consent_withdrawal_is_one_click(alice_client, alice):
    person = alice.person
    for topic in (Topic.NEWSLETTER, Topic.SURVEYS):
        consent.grant(
            person=person,
            topic=topic,
            channel=ConsentChannel.EMAIL,
            source=Source.MEMBER_SPACE,
            actor=alice.account,
        )
    alice_client.post("/espace/droits/retrait-consentement/")
    assert not any(consent.current_preferences(person).values())
    assert _only_request(alice, Kind.CONSENT_WITHDRAWAL).status == Status.ANSWERED


def test_rectification_corrects_contact_details_at_once_and_identity_after_a_check(
    alice_client, alice, bob, mailoutbox, committed
):
    person = alice.person
    record_disclosure(
        recipient=catalogue.MANDATORY_SCHEMES,
        subject=person,
        categories=[catalogue.IDENTITY],
        reason="Télétransmission",
    )
    _file(
        alice_client,
        "/espace/droits/rectification/",
        {"city": "Lyon", "postal_code": "69001", "last_name": "Martin-Durand"},
        committed,
    )
    request = _only_request(alice, Kind.RECTIFICATION)
    person.refresh_from_db()
    assert (person.city, person.postal_code) == ("Lyon", "69001")
    assert person.last_name == "Martin"  # waits for staff
    assert request.status == Status.IN_PROGRESS
    assert handlers.requested_changes(request)["last_name"] == "Martin-Durand"
    with committed():
        handlers.apply_rectification(
            request=request, changes={"last_name": "Martin-Durand"}, actor=bob
        )
    person.refresh_from_db()
    request.refresh_from_db()
    assert person.last_name == "Martin-Durand"
    assert request.status == Status.ANSWERED
    assert "Régimes obligatoires d'assurance maladie" in request.answer_text
    assert "CNIL" in request.answer_text


def test_a_requested_nir_is_never_stored_in_clear(alice_client, alice):
    from mutualis.members.testing import make_nir

    new_nir = make_nir(civility="MME", birth_date=alice.person.birth_date)
    alice_client.post("/espace/droits/rectification/", {"nir": new_nir})
    request = _only_request(alice, Kind.RECTIFICATION)
    assert new_nir not in json.dumps(request.details)
    assert handlers.requested_changes(request)["nir"] == new_nir


def test_an_empty_rectification_is_refused(alice_client, alice):
    response = alice_client.post("/espace/droits/rectification/", {})
    assert response.status_code == 200
    assert "au moins une donnée" in response.content.decode()
    assert not RightsRequest.objects.exists()


def test_objection_waits_for_the_dpo_then_stops_the_processing(alice_client, alice, bob):
    alice_client.post(
        "/espace/droits/opposition/",
        {"purposes": ["inquiries"], "grounds": "Je ne souhaite plus être recontacté."},
    )
    request = _only_request(alice, Kind.OBJECTION)
    assert request.status == Status.IN_PROGRESS and not request.answer_text
    objection.decide_objection(
        request=request, upheld=True, grounds="Aucun motif impérieux de poursuivre.", actor=bob
    )
    request.refresh_from_db()
    assert request.status == Status.ANSWERED
    from mutualis.privacy import restrictions

    assert restrictions.is_restricted(alice.person, catalogue.INQUIRIES)
    assert not restrictions.is_restricted(alice.person, catalogue.CONTRACT)


def test_requests_merge_when_filed_twice(alice_client, alice):
    data = {"purposes": ["website"], "grounds": "Raisons personnelles détaillées."}
    alice_client.post("/espace/droits/opposition/", data)
    alice_client.post("/espace/droits/opposition/", data)
    assert RightsRequest.objects.filter(person=alice.person).count() == 1


def test_person_ids_sent_by_the_client_are_ignored(alice_client, alice, dave):
    alice_client.post("/espace/droits/acces/", {"person": str(dave.person.pk)})
    assert RightsRequest.objects.get().person == alice.person
    assert Person.objects.filter(pk=dave.person.pk).exists()


def test_staff_apply_a_checked_nir_and_the_blind_index_follows(alice_client, alice, bob):
    from mutualis.members.testing import make_nir

    new_nir = make_nir(civility="MME", birth_date=alice.person.birth_date)
    alice_client.post("/espace/droits/rectification/", {"nir": new_nir})
    request = _only_request(alice, Kind.RECTIFICATION)
    handlers.apply_rectification(
        request=request, changes=handlers.requested_changes(request), actor=bob
    )
    assert Person.objects.with_nir(new_nir).get() == alice.person
    request.refresh_from_db()
    assert request.status == Status.ANSWERED and new_nir not in request.answer_text


def test_the_access_copy_page_states_each_category_once_with_a_summary_first(
    alice_client, alice, committed
):
    import html

    from mutualis.lib import french
    from mutualis.privacy import catalogue

    response = _file(alice_client, "/espace/droits/acces/", committed=committed)
    page = french.plain(html.unescape(alice_client.get(response["Location"]).content.decode()))
    assert page.index("En résumé") < page.index('class="access-category"')
    assert page.count("<details") >= 3  # each category folds
    # The contract's retention is said once per category holding contract data, not per value.
    retention = catalogue.RETENTION_CONTRACT.summary
    sections = page.count('class="access-category"')
    assert 0 < page.count(retention) <= sections
    assert alice.person.last_name in page  # the values themselves are all there


def test_the_access_copy_is_built_once_from_the_request_to_its_page(
    alice_client, alice, committed, monkeypatch
):
    from mutualis.rights import export

    builds = []
    real = export.build_access_export
    monkeypatch.setattr(export, "build_access_export", lambda p: builds.append(p) or real(p))
    response = _file(alice_client, "/espace/droits/acces/", committed=committed)
    alice_client.get(response["Location"])
    assert len(builds) == 1  # the page's, not also one at filing
