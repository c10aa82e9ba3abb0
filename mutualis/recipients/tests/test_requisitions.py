"""The requisition register: the DPO's decision, the export of exactly the scope (encrypted,
with a checksum manifest), each person's data a disclosure, the person told unless forbidden."""

from __future__ import annotations

import json

import pytest

from mutualis.audit.models import Disclosure
from mutualis.privacy import catalogue, restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.recipients import register, requisitions
from mutualis.recipients.models_requisitions import RequisitionStatus, ToldChannel
from mutualis.recipients.services import RecipientsError
from mutualis.recipients.tests.helpers import disclose_to_authority, requisition_for
from mutualis.rights.export import build_access_export
from mutualis.vault.backup_file import BackupError

pytestmark = pytest.mark.django_db


def _open(tmp_path, requisition, key):
    path = tmp_path / "export.bak"
    path.write_bytes(bytes(requisition.archive))
    return requisitions.open_archive(path, key)


def test_an_approved_requisition_exports_exactly_its_scope(alice, dave, authority, tmp_path):
    requisition, sealed = disclose_to_authority(authority, alice.person)
    assert requisition.status == RequisitionStatus.EXPORTED
    manifest, documents = _open(tmp_path, requisition, sealed.key)
    assert manifest["requisition"]["reference"] == "PV 2026/123"
    assert [name for name, _ in documents] == ["personne-001.json"]
    document = documents[0][1]
    assert {c["code"] for c in document["categories"]} <= {"identity", "contract"}
    text = json.dumps(documents)
    assert alice.person.nir not in text  # administrative data were not asked for
    assert alice.person.last_name in text and dave.person.last_name not in text
    disclosure = Disclosure.objects.get()
    assert disclosure.recipient == catalogue.AUTHORITIES.code
    assert disclosure.subject_id == str(alice.person_id)
    assert disclosure.categories == ["contract", "identity"]
    assert "PV 2026/123" in disclosure.reason and "60-1" in disclosure.reason


def test_the_archive_is_useless_without_its_key_and_altering_it_is_detected(
    alice, authority, tmp_path
):
    requisition, sealed = disclose_to_authority(authority, alice.person)
    other = requisitions.Export(archive=b"", key=requisitions._seal(requisition, []).key, sha256="")
    with pytest.raises(BackupError):
        _open(tmp_path, requisition, other.key)
    data = bytearray(requisition.archive)
    data[-5] ^= 1
    requisition.archive = bytes(data)
    with pytest.raises(BackupError):
        _open(tmp_path, requisition, sealed.key)
    assert sealed.key not in json.dumps(requisition.__dict__, default=str)


def test_the_person_is_told_by_email(alice, authority, smtp_server, committed):
    with committed():
        requisition, _ = disclose_to_authority(authority, alice.person)
    subject = requisition.subjects.get()
    assert subject.told_channel == ToldChannel.EMAIL and subject.told_at is not None
    received = smtp_server.messages[-1]
    assert received.rcpt_tos == [alice.person.email]
    assert "PV 2026/123" in received.body


def test_a_secret_requisition_is_withheld_from_the_person_until_the_secrecy_ends(
    client, alice, authority, smtp_server, committed
):
    with committed():
        requisition, _ = disclose_to_authority(authority, alice.person, secret=True)
    assert requisition.subjects.get().told_channel == ToldChannel.WITHHELD
    assert smtp_server.messages == []
    assert register.for_person(alice.person) == []
    assert build_access_export(alice.person)["disclosures"] == []
    assert register.search().count() == 1  # the DPO sees it
    with committed():
        requisitions.lift_secrecy(requisition=requisition, actor=None)
    assert len(register.for_person(alice.person)) == 1
    assert len(build_access_export(alice.person)["disclosures"]) == 1
    assert smtp_server.messages[-1].rcpt_tos == [alice.person.email]


def test_a_refused_requisition_is_never_exported(alice, authority):
    requisition = requisition_for(authority, [alice.person])
    requisitions.decide(
        requisition=requisition, approve=False, reasons="Fondement légal inapplicable.", actor=None
    )
    with pytest.raises(RecipientsError):
        requisitions.export(requisition=requisition, read_copy=build_access_export, actor=None)
    assert not Disclosure.objects.exists()


def test_a_decision_needs_reasons_and_a_requisition_an_authority(alice, authority, pharmacy):
    requisition = requisition_for(authority, [alice.person])
    with pytest.raises(RecipientsError, match="Motivez"):
        requisitions.decide(requisition=requisition, approve=True, reasons="ok", actor=None)
    with pytest.raises(RecipientsError, match="autorité"):
        requisition_for(pharmacy, [alice.person])


# Every purpose, or one of those the authorities serve other than legal obligations (the
# contract): either stops their disclosure, said before anything is written.
@pytest.mark.parametrize("purpose", [restrictions.ALL_PURPOSES, catalogue.CONTRACT.code])
def test_a_restricted_person_stops_the_export_until_the_dpo_allows_it(
    alice, authority, bob, purpose
):
    restriction = restrictions.start(
        subject=alice.person,
        purpose=purpose,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    requisition = requisition_for(authority, [alice.person])
    requisitions.decide(
        requisition=requisition, approve=True, reasons="Réquisition régulière.", actor=bob
    )
    with pytest.raises(RecipientsError, match="limité"):
        requisitions.export(requisition=requisition, read_copy=build_access_export, actor=bob)
    assert not Disclosure.objects.exists()
    requisition.refresh_from_db()
    assert requisition.status == RequisitionStatus.APPROVED
    restrictions.allow_for_legal_claims(
        restriction=restriction,
        use="recipients:requisition:export",
        reason="Réquisition judiciaire PV 2026/123",
        actor=bob,
    )
    requisitions.export(requisition=requisition, read_copy=build_access_export, actor=bob)
    assert Disclosure.objects.count() == 1


def test_delivery_clears_the_archive(alice, authority, bob):
    requisition, _ = disclose_to_authority(authority, alice.person)
    assert requisitions.download(requisition=requisition, actor=bob) == bytes(requisition.archive)
    requisitions.record_delivery(requisition=requisition, actor=bob)
    requisition.refresh_from_db()
    assert requisition.status == RequisitionStatus.DELIVERED and requisition.archive is None
