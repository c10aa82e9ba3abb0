"""A person erased after a backup stays erased after restoring it: not only their ciphertexts
(crypto-shredding) but their clear fields and records, removed again as the erasure did."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models.deletion import ProtectedError

from mutualis.audit.models import Event
from mutualis.audit.verify import verify_chain
from mutualis.consent import services as consent
from mutualis.consent.models import Channel as ConsentChannel
from mutualis.consent.models import ConsentEvent, Source, Topic
from mutualis.contact import services as contact
from mutualis.contact.models import Channel as ContactChannel
from mutualis.contact.models import Inquiry, Message
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import make_person_data
from mutualis.members import services as members
from mutualis.members.models import Member, Person
from mutualis.rights import forget, processing, services
from mutualis.rights.models import Channel, Kind, RightsRequest, Status
from mutualis.vault import services as vault
from mutualis.vault.models import DataKey, ShredRecord

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def backups(tmp_path) -> tuple[str, str]:
    data, keys = str(tmp_path / "donnees.bak"), str(tmp_path / "cles.bak")
    run("backup", data)
    run("backup_keys", keys)
    return data, keys


def prospect() -> Person:
    """Someone who wrote once and accepted the newsletter: no contract, nothing the law keeps."""
    person = members.create_person(
        data=make_person_data(first_names="Paul", last_name="Prospect", email="paul@example.org")
    )
    contact.open_inquiry(
        channel=ContactChannel.WEB_FORM, subject="Tarifs", body="Bonjour, vos tarifs ?",
        person=person,
    )  # fmt: skip
    consent.grant(
        person=person, topic=Topic.NEWSLETTER, channel=ConsentChannel.EMAIL,
        source=Source.MEMBER_SPACE,
    )  # fmt: skip
    return person


def erase(person: Person, actor) -> RightsRequest:
    request = services.file_request(
        kind=Kind.ERASURE,
        person=person,
        channel=Channel.EMAIL,
        identity_verified=True,
        identity_method="other",
        actor=actor,
    )
    return processing.process(request=request, actor=actor)


def test_a_person_erased_after_the_backup_is_gone_again_after_restoring_it(tmp_path, alice, bob):
    paul = prospect()
    alice_nir = alice.person.nir
    data, keys = backups(tmp_path)
    assert erase(paul, bob).status == Status.ANSWERED
    assert not Person.objects.filter(pk=paul.pk).exists()

    output = run("restore", data, keys, "--yes")

    assert "1 personne effacée depuis la sauvegarde en est revenue" in output
    assert not Person.objects.filter(pk=paul.pk).exists()
    assert not Person.objects.filter(last_name="Prospect").exists()
    assert not Person.objects.filter(email="paul@example.org").exists()
    assert not Inquiry.objects.filter(contact_email="paul@example.org").exists()
    assert not Inquiry.objects.filter(person_id=paul.pk).exists()
    assert not Message.objects.filter(body__contains="vos tarifs").exists()
    assert not ConsentEvent.objects.filter(person_id=paul.pk).exists()
    assert not DataKey.objects.filter(pk=paul.data_key_id).exists()
    assert ShredRecord.objects.filter(data_key_id=paul.data_key_id).exists()
    # Everyone else is as the backup had them.
    vault.clear_key_cache()
    assert Person.objects.get(pk=alice.person.pk).nir == alice_nir
    event = Event.objects.get(tag="rights:erasure:replay")
    assert event.subject_id == str(paul.pk)
    assert event.details["deleted"]["members.Person"] == 1
    assert event.details["deleted"]["contact.Inquiry"] == 1
    assert "Prospect" not in str(event.details) and "paul@" not in str(event.details)
    assert Event.objects.latest("id").details["forgotten"] == 1
    assert verify_chain().ok


def test_a_member_is_removed_with_the_records_that_protected_them(tmp_path, alice, dave):
    """The product destroys a key only once nothing of the person remains: a restored member
    goes with contract, mandate and member record (other people stay, detached)."""
    data, keys = backups(tmp_path)
    vault.shred(alice.person)  # the key of a person since erased

    run("restore", data, keys, "--yes")

    assert not Person.objects.filter(pk=alice.person.pk).exists()
    assert not Member.objects.filter(person_id=alice.person.pk).exists()
    assert not Contract.objects.filter(member__person_id=alice.person.pk).exists()
    assert Person.objects.filter(pk=dave.person.pk).exists()
    assert Contract.objects.filter(member__person_id=dave.person.pk).exists()
    assert verify_chain().ok


def test_a_person_something_unknown_still_protects_keeps_no_clear_field(
    tmp_path, alice, dave, monkeypatch
):
    data, keys = backups(tmp_path)
    vault.shred(alice.person)

    def protected(person):
        raise ProtectedError("a record the plan does not walk", set())

    monkeypatch.setattr(forget, "forget", protected)
    run("restore", data, keys, "--yes")

    restored = Person.objects.get(pk=alice.person.pk)
    assert restored.last_name == "" and restored.first_names == "" and restored.email == ""
    assert restored.address_line1 == "" and restored.city == ""
    event = Event.objects.get(tag="rights:erasure:replay")
    assert "last_name" in event.details["blanked"]
    assert Person.objects.get(pk=dave.person.pk).last_name == dave.person.last_name
