"""Erasure (GDPR art. 17) from the member space: what nothing obliges to keep goes at once, what
the law keeps is archived with its end date and restricted, and the answer says which and why."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from mutualis.audit.models import Event
from mutualis.billing.models import Mandate
from mutualis.consent import services as consent
from mutualis.consent.models import Channel as ConsentChannel
from mutualis.consent.models import Source, Topic
from mutualis.contact import services as contact
from mutualis.contact.models import Channel as ContactChannel
from mutualis.contact.models import Inquiry
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import make_person_data
from mutualis.members import services as members
from mutualis.members.models import Member, Person, User
from mutualis.privacy import promises, restrictions
from mutualis.rights import processing, services
from mutualis.rights.models import Channel, Kind, Outcome, RightsRequest, Status
from mutualis.vault.models import DataKey, ShredRecord

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 11, 20, 10, tzinfo=PARIS)


def _history(person):
    contact.open_inquiry(
        channel=ContactChannel.WEB_FORM, subject="Question", body="Bonjour", person=person
    )
    consent.grant(
        person=person,
        topic=Topic.NEWSLETTER,
        channel=ConsentChannel.EMAIL,
        source=Source.MEMBER_SPACE,
    )


def _end_contract(member) -> None:
    """Alice left the mutuelle on 30 June 2026; her mandate ended on 15 June."""
    Contract.objects.filter(member=member).update(
        start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 6, 30)
    )
    Mandate.objects.filter(member=member).update(
        ended_at=datetime.datetime(2026, 6, 15, 12, tzinfo=PARIS)
    )


def test_the_confirmation_page_previews_what_goes_and_what_stays(alice_client, alice):
    _history(alice.person)
    body = alice_client.get("/espace/droits/effacement/").content.decode()
    assert "Ce qui sera effacé immédiatement" in body
    assert "est en cours" in body  # her contract runs
    assert "Ce qui sera conservé, et pourquoi" in body and "CNIL" in body


def test_erasure_is_confirmed_by_a_checkbox(alice_client, alice):
    response = alice_client.post("/espace/droits/effacement/", {})
    assert response.status_code == 200 and "Cochez la case" in response.content.decode()
    assert not RightsRequest.objects.exists()


def test_with_a_running_contract_what_the_contract_needs_stays(alice_client, alice, committed):
    person = alice.person
    _history(person)
    with committed():
        response = alice_client.post("/espace/droits/effacement/", {"confirm": "on"})
    request = RightsRequest.objects.get(kind=Kind.ERASURE)
    assert response.status_code == 302
    assert request.status == Status.ANSWERED and request.outcome == Outcome.PARTIAL
    assert not Inquiry.objects.filter(person=person).exists()  # no contract needs it
    assert not any(consent.current_preferences(person).values())
    person.refresh_from_db()
    assert person.email == "alice@example.org" and person.nir  # the contract needs them
    assert User.objects.get(pk=alice.account_id).is_active
    assert "contrat en cours" in request.answer_text and "résiliation" in request.answer_text
    assert "CNIL" in request.answer_text
    assert not restrictions.is_restricted(person)  # the contract goes on


def test_after_the_contract_erasure_keeps_only_what_the_law_requires(
    alice_client, alice, mailoutbox, committed
):
    person = alice.person
    _history(person)
    _end_contract(alice)
    with time_machine.travel(NOW, tick=False), committed():
        response = alice_client.post("/espace/droits/effacement/", {"confirm": "on"})
    request = RightsRequest.objects.get(kind=Kind.ERASURE)
    assert request.status == Status.ANSWERED and request.outcome == Outcome.PARTIAL
    # Shown once, the account being closed; she is logged out.
    assert response.status_code == 200
    assert request.reference in response.content.decode()
    assert alice_client.get("/espace/droits/").status_code == 302
    account = User.objects.get(pk=alice.account_id)
    assert not account.is_active and "alice" not in account.email
    assert Member.objects.get(pk=alice.pk).account is None
    # Nothing readable that nothing obliges to keep.
    person = Person.objects.get(pk=person.pk)
    assert person.nir is None and person.nir_index is None
    contact_fields = ("email", "address_line1", "postal_code", "city", "phone_mobile")
    assert all(getattr(person, name) == "" for name in contact_fields)
    assert person.scheme_regime == "" and person.scheme_organisation == ""
    assert person.last_name == "Martin"  # ties the archive to her
    assert not Inquiry.objects.filter(person=person).exists()
    assert not any(consent.current_preferences(person).values())
    # What the law keeps is archived, with its end date, and restricted to storage.
    contract = Contract.objects.get(member=alice)
    mandate = Mandate.objects.get(member=alice)
    assert contract.archived_at is not None and mandate.archived_at is not None
    assert "30 juin 2031" in request.answer_text  # contract end + 5 years
    assert "15 juillet 2027" in request.answer_text  # last debit + 13 months
    assert "L133-24" in request.answer_text and "CNIL" in request.answer_text
    assert restrictions.is_restricted(person)
    # The answer reaches her at the address she had.
    [answer] = [m for m in mailoutbox if m.subject.startswith("Réponse")]
    assert answer.to == ["alice@example.org"]
    # No shredded key while rows still need it.
    assert not [b for r in promises.run(only=["T5"]) for b in r.breaches]
    event = Event.objects.get(tag="rights:erasure:apply")
    assert event.details["archived"] == {"billing.Mandate": 1, "contracts.Contract": 1}


def test_with_nothing_to_keep_the_person_is_crypto_shredded(bob, mailoutbox, committed):
    person = members.create_person(
        data=make_person_data(first_names="Paul", last_name="Prospect", email="paul@example.org")
    )
    _history(person)
    key_id = person.data_key_id
    with committed():
        request = services.file_request(
            kind=Kind.ERASURE,
            person=person,
            channel=Channel.EMAIL,
            identity_verified=True,
            identity_method="other",
            actor=bob,
        )
        request = processing.process(request=request, actor=bob)
    assert request.status == Status.ANSWERED and request.outcome == Outcome.GRANTED
    assert not Person.objects.filter(pk=person.pk).exists()
    assert not DataKey.objects.filter(pk=key_id).exists()
    assert ShredRecord.objects.filter(data_key_id=key_id).exists()
    assert not Inquiry.objects.exists()
    request.refresh_from_db()
    assert request.person is None and request.subject_id == str(person.pk)
    assert "clé de chiffrement" in request.answer_text
    assert mailoutbox[-1].to == ["paul@example.org"] and "CNIL" in mailoutbox[-1].body
