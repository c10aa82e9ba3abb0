"""A requisition's export holds exactly the categories asked for, of exactly the people named:
no name unless identity is asked for, no beneficiary's data unless the beneficiary is named
(then in their own document, their own disclosure, and their own art. 19 notices)."""

from __future__ import annotations

import json
import random

import pytest

from mutualis.audit.models import Disclosure
from mutualis.contracts.testing import (
    subscribe_with_twins,
)
from mutualis.privacy import catalogue
from mutualis.recipients import notices, requisition_scope, requisitions
from mutualis.recipients.models import Notice, NoticeCause, NoticeChannel
from mutualis.recipients.services import RecipientsError
from mutualis.recipients.tests.helpers import requisition_for
from mutualis.rights.export import build_access_export

pytestmark = pytest.mark.django_db


def _exported(authority, people, categories, tmp_path):
    """Register, approve and export; returns the documents by file name and their text."""
    requisition = requisition_for(authority, people, categories=categories)
    requisitions.decide(
        requisition=requisition, approve=True, reasons="Réquisition régulière.", actor=None
    )
    sealed = requisitions.export(requisition=requisition, read_copy=build_access_export, actor=None)
    requisition.refresh_from_db()
    path = tmp_path / "export.bak"
    path.write_bytes(bytes(requisition.archive))
    _manifest, documents = requisitions.open_archive(path, sealed.key)
    return dict(documents), json.dumps(documents, ensure_ascii=False)


def _child(member):
    return member.beneficiaries.get().person


def test_categories_without_identity_give_no_name_and_nothing_outside_them(
    alice, authority, tmp_path
):
    documents, text = _exported(authority, [alice.person], [catalogue.CONTRACT_DATA], tmp_path)
    document = documents["personne-001.json"]
    assert document["personne"] == {"rang": 1}
    assert [c["code"] for c in document["categories"]] == ["contract"]
    assert alice.contracts.get().number in text and alice.number in text
    for absent in (
        alice.person.last_name,
        alice.person.first_names,
        alice.person.email,  # contact data: her account is named by its address
        alice.person.birth_date.isoformat(),
        alice.person.nir,
    ):
        assert absent not in text
    records = [r for c in document["categories"] for r in c["records"]]
    assert all(set(r) == {"model_code", "record_id", "values", "erased"} for r in records)
    # The declaration explains exactly the fields given.
    given = {
        (r["model_code"], name)
        for c in document["categories"]
        for r in c["records"]
        for name in r["values"]
    }
    explained = {
        (code, name) for code, info in document["declaration"].items() for name in info["fields"]
    }
    assert given == explained
    disclosure = Disclosure.objects.get()
    assert disclosure.categories == ["contract"]


def test_identity_asked_gives_the_name(alice, authority, tmp_path):
    documents, _ = _exported(
        authority, [alice.person], [catalogue.IDENTITY, catalogue.CONTRACT_DATA], tmp_path
    )
    assert documents["personne-001.json"]["personne"] == {"rang": 1, "nom": "Alice Martin"}


def test_a_childs_data_stay_out_of_the_members_export_unless_the_child_is_named(
    alice, authority, tmp_path
):
    child = _child(alice)
    categories = [catalogue.IDENTITY, catalogue.CONTACT, catalogue.CONTRACT_DATA]
    documents, text = _exported(authority, [alice.person], categories, tmp_path)
    assert list(documents) == ["personne-001.json"]
    assert child.first_names not in text and child.birth_date.isoformat() not in text
    (contract,) = [
        r["values"]
        for c in documents["personne-001.json"]["categories"]
        for r in c["records"]
        if r["model_code"] == "contracts.contract"
    ]
    assert contract["beneficiaries"] == requisition_scope.WITHHELD
    assert [d.subject_id for d in Disclosure.objects.all()] == [str(alice.person_id)]
    # An erasure of the child's data owes the authority nothing: it received none.
    assert (
        notices.notify(
            subject_id=str(child.pk),
            categories=["identity"],
            cause=NoticeCause.ERASURE,
            source="rights.rightsrequest:1",
        )
        == []
    )


def test_a_named_child_gets_their_own_document_disclosure_and_notices(alice, authority, tmp_path):
    child = _child(alice)
    named = requisition_scope.designate(
        f"{alice.number}\n{alice.number.lower()} {child.birth_date:%d/%m/%Y}"
    )
    assert named == [alice.person, child]
    documents, _text = _exported(
        authority, named, [catalogue.IDENTITY, catalogue.CONTRACT_DATA], tmp_path
    )
    assert documents["personne-002.json"]["personne"] == {"rang": 2, "nom": "Léo Martin"}
    assert child.first_names not in json.dumps(documents["personne-001.json"], ensure_ascii=False)
    values = [
        r["values"] for c in documents["personne-002.json"]["categories"] for r in c["records"]
    ]
    assert {"last_name": "Martin", "first_names": "Léo"}.items() <= values[0].items()
    disclosures = {d.subject_id: d for d in Disclosure.objects.all()}
    assert set(disclosures) == {str(alice.person_id), str(child.pk)}
    assert disclosures[str(child.pk)].recipient == catalogue.AUTHORITIES.code
    created = notices.notify(
        subject_id=str(child.pk),
        categories=["identity"],
        cause=NoticeCause.RECTIFICATION,
        source="rights.rightsrequest:1",
    )
    assert [(n.organisation, n.channel) for n in created] == [(authority, NoticeChannel.LETTER)]
    assert Notice.objects.get().references == ["PV 2026/123"]


def test_designation_refuses_each_line_that_names_no_one_or_not_one_person(alice, dave):
    with pytest.raises(RecipientsError) as caught:
        requisition_scope.designate(
            "\n".join(
                [
                    alice.number,
                    "A000000000",
                    "12345",
                    f"{alice.number} 31/02/2018",
                    f"{dave.number} 01/01/1990",
                ]
            )
        )
    message = str(caught.value)
    assert message.startswith("Ligne 2 : numéro d'adhérent A000000000 inconnu ; ligne 3")
    assert "ligne 3 : un numéro d'adhérent est une lettre suivie de 9 chiffres" in message
    assert "ligne 4 : après le numéro, la date de naissance" in message
    assert f"ligne 5 : aucun bénéficiaire de l'adhérent n° {dave.number}" in message
    assert "igne 1 " not in message
    with pytest.raises(RecipientsError, match="au moins une personne"):
        requisition_scope.designate(" \n ")


def test_twins_are_told_apart_by_their_first_name(db, authority):
    member, twins = subscribe_with_twins(random.Random(7))
    born = f"{twins[0].person.birth_date:%d/%m/%Y}"
    with pytest.raises(RecipientsError, match="ajoutez le prénom"):
        requisition_scope.designate(f"{member.number} {born}")
    (found,) = requisition_scope.designate(f"{member.number} {born} ines")
    assert found.first_names == "Inès"
    subjects = list(requisition_for(authority, [found]).subjects.all())
    assert requisition_scope.describe(subjects) == {
        str(found.pk): f"bénéficiaire (enfant) de l'adhérent n° {member.number}"
    }


def test_the_register_form_names_a_beneficiary_or_every_beneficiary_of_a_member(
    alice, dave, authority
):
    from mutualis.backoffice.requisitions.forms import RequisitionForm

    child = _child(alice)
    data = {
        "organisation": authority.pk,
        "legal_basis": "C. procédure pénale art. 60-1",
        "reference": "PV 2026/9",
        "received_on": "2026-03-02",
        "deadline": "2026-03-16",
        "categories": ["identity"],
    }
    form = RequisitionForm({**data, "members": f"{alice.number} {child.birth_date:%d/%m/%Y}"})
    assert form.is_valid(), form.errors
    assert form.people() == [child]
    form = RequisitionForm({**data, "members": dave.number, "with_beneficiaries": "on"})
    assert form.is_valid(), form.errors
    assert form.people() == [dave.person, _child(dave)]
    refused = RequisitionForm({**data, "members": f"{dave.number} 01/01/2000"})
    assert not refused.is_valid()
    assert refused.errors["members"] == [
        f"Ligne 1 : aucun bénéficiaire de l'adhérent n° {dave.number} ne correspond."
    ]
