"""`privacy_check`: each promise broken once is named by its check; a clean database passes.

Every test builds the live data a bug (or a careless hand) would leave, runs the command and
reads what it prints: the table (promise, section, rows checked, breaches) and one line per
breach under the promise's identifier.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mutualis import audit
from mutualis.audit.models import Event
from mutualis.consent import services as consent
from mutualis.consent.models import Channel as ConsentChannel
from mutualis.consent.models import ConsentDocument, Source, Topic
from mutualis.consent.services import Document
from mutualis.contact import services as contact
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Attachment, Channel, ComplainantType, Complaint, Inquiry
from mutualis.contact.services import IncomingFile
from mutualis.contact.testing import IMAP_SETTINGS, FakeImapServer
from mutualis.contracts.testing import make_person_data
from mutualis.members import services as members
from mutualis.members.tags import MembersTag
from mutualis.privacy import catalogue, policy, promises, restrictions
from mutualis.privacy.models import RestrictionGround
from mutualis.rights import services as rights
from mutualis.rights.models import RightsRequest
from mutualis.vault.services import shred

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"
NOW = datetime.datetime(2027, 3, 1, 12, tzinfo=PARIS)
SCAN = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def check(*options: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("privacy_check", *options, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def breaches_of(code: str, text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"MANQUEMENT {code} ")]


def row_of(code: str, text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"{code} "))
    return line.split()


@pytest.fixture
def published(db):
    policy.publish(datetime.date(2026, 1, 1))


# --- The table ---------------------------------------------------------------------------------
def test_a_clean_database_passes_every_promise_with_its_section_in_the_table(alice, published):
    code, text = check()
    assert code == 0, text
    assert text.strip().endswith("Aucun manquement : chaque engagement vérifiable est tenu.")
    for promise in promises.registered():
        cells = row_of(promise.code, text)
        assert promise.section in " ".join(cells) and cells[-1] == "0"
    assert {"T1", "T2", "T3", "T4", "T5", "T9", "T11", "T12"} <= {
        p.code for p in promises.registered()
    }
    assert int(row_of("T11", text)[-2]) > 0  # the audit events of alice's subscription


def test_the_table_of_promises_names_the_module_each_one_is_registered_in():
    table = {}
    for line in (promises.__doc__ or "").splitlines():
        match = re.match(r"^(T\d+)\s{2,}.*\s{2,}(\S+\.py)$", line)
        if match:
            table[match[1]] = match[2]
    registered = {
        p.code: p.check.__module__.removeprefix("mutualis.").replace(".", "/") + ".py"
        for p in promises.registered()
    }
    assert table == registered


def test_the_json_format_carries_each_promise_with_its_counts(alice, published):
    person = members.create_person(data=make_person_data(email="erased@example.org"))
    shred(person)
    code, text = check("--format", "json")
    assert code == 1
    data = json.loads(text)
    assert data["ok"] is False and data["breaches"] >= 1
    by_code = {p["promise"]: p for p in data["promises"]}
    assert by_code["T5"]["section"] == "5" and by_code["T5"]["breaches"]
    assert by_code["T11"]["checked"] > 0 and by_code["T11"]["breaches"] == []


def test_an_unknown_promise_or_date_is_refused_in_french(db):
    with pytest.raises(CommandError, match="Promesse inconnue : T99"):
        call_command("privacy_check", "--only", "T99", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("privacy_check", "--as-of", "01/03/2027", stdout=io.StringIO())


# --- T1: e-mails, three months at most, copies included --------------------------------------
def test_t1_names_an_email_body_kept_past_its_rule(published):
    with time_machine.travel(at(2026, 12, 20, 9), tick=False):
        ingest((FIXTURES / "latin1_qp.eml").read_bytes())
    with time_machine.travel(NOW, tick=False):
        code, text = check()
    assert code == 1
    (line,) = breaches_of("T1", text)
    assert "contact.Message" in line
    assert not breaches_of("T2", text)  # e-mails are T1's, not counted twice


def test_t1_names_a_message_left_in_the_mailbox_for_more_than_a_day(
    settings, monkeypatch, published
):
    import imaplib

    server = FakeImapServer()
    monkeypatch.setattr(imaplib, "IMAP4_SSL", server.client_class())
    settings.MUTUALIS_IMAP = dict(IMAP_SETTINGS)
    server.deliver((FIXTURES / "latin1_qp.eml").read_bytes(), datetime.date(2027, 2, 20))
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T1")
        assert code == 1
        assert "boîte de réception : 1 message" in breaches_of("T1", text)[0]
        call_command("fetch_mail", stdout=io.StringIO())  # stored, then deleted
        assert server.messages == {}
        assert not any("boîte" in line for line in breaches_of("T1", check("--only", "T1")[1]))


def test_t1_names_a_backup_older_than_its_retention_until_pruned(settings, tmp_path, published):
    settings.MUTUALIS_BACKUP_DIR = str(tmp_path)
    with time_machine.travel(at(2027, 1, 20, 2), tick=False):
        call_command("backup", str(tmp_path / "old.bak"), verbosity=0)
    with time_machine.travel(at(2027, 2, 25, 2), tick=False):
        call_command("backup", str(tmp_path / "recent.bak"), verbosity=0)
    (tmp_path / "notes.txt").write_text("not a backup")
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T1")
        assert code == 1
        (line,) = breaches_of("T1", text)
        assert "old.bak" in line and "recent.bak" not in line
        out = io.StringIO()
        call_command("prune_backups", stdout=out)
        assert "1 sauvegarde supprimée" in out.getvalue()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "recent.bak"]
        assert check("--only", "T1")[0] == 0
    assert Event.objects.filter(tag="vault:backup:prune").count() == 1


def test_t1_names_a_declaration_whose_rules_add_up_past_three_months(monkeypatch, published):
    monkeypatch.setattr(catalogue, "RETENTION_BACKUPS", catalogue.Duration(days=45))
    code, text = check("--only", "T1")
    assert code == 1
    assert "dépassent les 3 mois promis" in breaches_of("T1", text)[0]


# --- T2, T3, T4: retention stages and deadlines ------------------------------------------------
def test_t2_names_a_record_past_its_stage(bob, published):
    with time_machine.travel(at(2024, 9, 1, 10), tick=False):
        inquiry = contact.open_inquiry(
            channel=Channel.PHONE, subject="Litige", body="x", contact_name="A"
        )
        complaint = contact.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Délai"
        )
        contact.answer(inquiry=inquiry, body="Réponse", actor=bob)
        contact.close_complaint(complaint=complaint, outcome="rejected", actor=bob)
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T2")
        assert code == 1
        assert "contact.Complaint" in breaches_of("T2", text)[0]
        call_command("enforce_retention", stdout=io.StringIO())
        assert check("--only", "T2")[0] == 0
    assert Complaint.objects.filter(pk=complaint.pk, archived_at__isnull=False).exists()


def test_t3_names_a_complaint_neither_acknowledged_nor_answered_in_time(bob, published):
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        late = contact.open_inquiry(
            channel=Channel.LETTER, subject="Plainte", body="x", contact_name="B"
        )
        contact.qualify_as_complaint(
            inquiry=late, complainant_type=ComplainantType.PROSPECT, reason="Accueil"
        )
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T3")
        lines = breaches_of("T3", text)
        assert code == 1 and len(lines) == 2
        assert "sans accusé de réception" in lines[0] and "sans réponse" in lines[1]
        contact.answer(inquiry=late, body="Réponse", actor=bob)
        assert check("--only", "T3")[0] == 0


def test_t4_names_a_rights_request_past_its_deadline(bob, published):
    with time_machine.travel(at(2027, 1, 10, 10), tick=False):
        request = rights.file_request(
            kind="access",
            requester_name="C",
            requester_email="c@example.org",
            channel="letter",
            identity_verified=True,
            identity_method="document",
            actor=bob,
        )
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T4")
        assert code == 1 and request.reference in breaches_of("T4", text)[0]
        request = RightsRequest.objects.get(pk=request.pk)
        rights.answer(request=request, outcome="granted", text="Copie envoyée.", actor=bob)
        assert check("--only", "T4")[0] == 0


# --- T5: an erased person has nothing readable left --------------------------------------------
def test_t5_names_a_shredded_person_still_present_and_their_readable_records(published):
    person = members.create_person(data=make_person_data(email="erased@example.org"))
    contact.open_inquiry(channel=Channel.PHONE, subject="Question", body="Mon texte", person=person)
    shred(person)
    code, text = check("--only", "T5")
    lines = breaches_of("T5", text)
    assert code == 1
    assert any("members.Person" in line for line in lines)
    assert any("contact.Inquiry" in line and "lisible" in line for line in lines)
    assert any("contact.Message" in line and "lisible" in line for line in lines)


def _complainant_with_consent_proof(bob):
    """A person with a complaint (and the scan attached to it) and a withdrawal of consent
    recorded from their letter (and its scan)."""
    person = members.create_person(data=make_person_data(email="plaignant@example.org"))
    inquiry = contact.open_inquiry(
        channel=Channel.LETTER,
        subject="Réclamation",
        body="Mon courrier",
        person=person,
        files=[IncomingFile("courrier.pdf", SCAN)],
    )
    contact.qualify_as_complaint(
        inquiry=inquiry, complainant_type=ComplainantType.MEMBER, reason="Remboursement en retard"
    )
    consent.record_for_person(
        person=person,
        topic=Topic.NEWSLETTER,
        channel=ConsentChannel.POST,
        granted=False,
        source=Source.LETTER,
        actor=bob,
        document=Document(filename="retrait.pdf", content=SCAN, content_type="application/pdf"),
    )
    return person


def test_t5_names_a_shredded_persons_complaint_and_consent_records(bob, published):
    person = _complainant_with_consent_proof(bob)
    shred(person)
    code, text = check("--only", "T5")
    lines = breaches_of("T5", text)
    assert code == 1
    for label in (
        "contact.Complaint",
        "contact.Attachment",
        "consent.ConsentEvent",
        "consent.ConsentDocument",
    ):
        assert any(f"{label} :" in line and "lisible" in line for line in lines), label


def test_t5_names_the_files_of_a_shredded_person_even_once_their_text_is_gone(bob, published):
    person = _complainant_with_consent_proof(bob)
    shred(person)
    # A careless erasure empties the names and notes but leaves the files' bytes.
    Attachment.objects.update(filename="")
    ConsentDocument.objects.update(note="", filename="", content_type="", sha256="")
    code, text = check("--only", "T5")
    lines = breaches_of("T5", text)
    assert code == 1
    assert any("contact.Attachment :" in line for line in lines)
    assert any("consent.ConsentDocument :" in line for line in lines)
    Attachment.objects.update(content=b"")
    ConsentDocument.objects.update(content=b"")
    lines = breaches_of("T5", check("--only", "T5")[1])
    assert not any("contact.Attachment" in line or "ConsentDocument" in line for line in lines)


def test_t5_names_the_correspondence_left_behind_by_a_deleted_person(published):
    person = members.create_person(data=make_person_data(email="gone@example.org"))
    inquiry = contact.open_inquiry(
        channel=Channel.PHONE, subject="Question", body="Mon texte", person=person
    )
    Inquiry.objects.filter(pk=inquiry.pk).update(person=None)  # as a bare delete would leave it
    code, text = check("--only", "T5")
    assert code == 1
    (line,) = breaches_of("T5", text)
    assert "sans personne ni contact" in line and str(inquiry.pk) in line


def test_t5_names_an_audit_event_carrying_contact_data_of_a_person_no_longer_there(published):
    ghost = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    with transaction.atomic():
        event = audit.record(
            MembersTag.CONTACT_RECTIFY, subject=ghost, details={"note": "joindre ghost@example.org"}
        )
        audit.record(MembersTag.CONTACT_RECTIFY, subject=ghost, details={"fields": ["email"]})
    code, text = check("--only", "T5")
    assert code == 1
    (line,) = breaches_of("T5", text)
    assert "1 événement sur une personne effacée" in line and str(event.pk) in line


# --- T9: a restricted person's data is only stored ---------------------------------------------
@pytest.fixture
def restricted(alice, bob):
    return restrictions.start(
        subject=alice.person,
        purpose=catalogue.CONTRACT,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
        actor=bob,
    )


def test_t9_names_a_use_of_restricted_data_that_bypassed_the_guard(alice, bob, restricted):
    # A service that forgot the guard: it reveals the NIR and audits it, as reveal_nir would.
    with transaction.atomic():
        audit.record(
            MembersTag.NIR_REVEAL, actor=bob, subject=alice.person, details={"reason": "oubli"}
        )
    policy.publish()
    code, text = check("--only", "T9")
    assert code == 1
    (line,) = breaches_of("T9", text)
    assert "members:nir:reveal" in line and str(restricted.pk) in line


def test_t9_accepts_a_use_the_dpo_allowed_for_legal_claims(alice, bob, restricted):
    restrictions.allow_for_legal_claims(
        restriction=restricted,
        use=MembersTag.NIR_REVEAL,
        reason="Contentieux prud'homal",
        actor=bob,
    )
    members.reveal_nir(person=alice.person, actor=bob, reason="Pièce du dossier contentieux")
    policy.publish()
    code, text = check("--only", "T9")
    assert code == 0, text
    assert row_of("T9", text)[-2] == "1"  # one restriction checked


def test_t9_names_a_use_made_after_the_override_it_leans_on_expired(alice, bob):
    with time_machine.travel(at(2027, 2, 1, 9), tick=False):
        restriction = restrictions.start(
            subject=alice.person,
            purpose=catalogue.CONTRACT,
            ground=RestrictionGround.RESTRICTION,
            reason="Exactitude contestée",
            actor=bob,
        )
        restrictions.allow_for_legal_claims(
            restriction=restriction,
            use=MembersTag.NIR_REVEAL,
            reason="Contentieux prud'homal",
            actor=bob,
            until=at(2027, 2, 5, 18),
        )
        # The guard let one use through while the override was in force ...
        restrictions.ensure_allowed(
            alice.person, purpose=catalogue.CONTRACT, use=MembersTag.NIR_REVEAL
        )
    with time_machine.travel(at(2027, 2, 20, 9), tick=False), transaction.atomic():
        # ... but the NIR is revealed two weeks later, past the override's end.
        late = audit.record(
            MembersTag.NIR_REVEAL, actor=bob, subject=alice.person, details={"reason": "tard"}
        )
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T9")
    assert code == 1
    (line,) = breaches_of("T9", text)
    assert f"événement d'audit n° {late.pk})" in line and f"n° {restriction.pk}" in line


def test_t9_lets_one_guarded_use_cover_one_use_only(alice, bob, restricted):
    restrictions.allow_for_legal_claims(
        restriction=restricted,
        use=MembersTag.NIR_REVEAL,
        reason="Contentieux prud'homal",
        actor=bob,
    )
    members.reveal_nir(person=alice.person, actor=bob, reason="Pièce du dossier contentieux")
    with transaction.atomic():  # a second reveal around the guard, under the same override
        second = audit.record(
            MembersTag.NIR_REVEAL, actor=bob, subject=alice.person, details={"reason": "encore"}
        )
    code, text = check("--only", "T9")
    assert code == 1
    (line,) = breaches_of("T9", text)
    assert f"événement d'audit n° {second.pk})" in line


def test_t9_names_a_use_made_during_a_restriction_lifted_since(alice, bob):
    with time_machine.travel(at(2027, 2, 1, 9), tick=False):
        restriction = restrictions.start(
            subject=alice.person,
            purpose=catalogue.CONTRACT,
            ground=RestrictionGround.RESTRICTION,
            reason="Exactitude contestée",
            actor=bob,
        )
    with time_machine.travel(at(2027, 2, 2, 9), tick=False), transaction.atomic():
        during = audit.record(
            MembersTag.NIR_REVEAL, actor=bob, subject=alice.person, details={"reason": "oubli"}
        )
    with time_machine.travel(at(2027, 2, 10, 9), tick=False):
        restrictions.record_lift_notice(restriction=restriction, actor=bob)
        restrictions.lift(restriction=restriction, actor=bob)
    with time_machine.travel(at(2027, 2, 15, 9), tick=False):
        members.reveal_nir(person=alice.person, actor=bob, reason="Après la levée")
    with time_machine.travel(NOW, tick=False):
        code, text = check("--only", "T9")
    assert code == 1
    (line,) = breaches_of("T9", text)  # the reveal after the lifting is not one
    assert f"n° {restriction.pk}, levée le 10/02/2027" in line
    assert f"événement d'audit n° {during.pk})" in line


def test_t9_pairs_a_disclosure_with_the_use_the_dpo_allowed_it_for(alice, bob, restricted):
    use = "recipients:check:answer"
    restrictions.allow_for_legal_claims(
        restriction=restricted, use=use, reason="Litige sur un remboursement", actor=bob
    )
    restrictions.ensure_allowed(alice.person, purpose=catalogue.CONTRACT, use=use)
    with transaction.atomic():
        disclosure = audit.record_disclosure(
            recipient=catalogue.HEALTH_PROFESSIONALS,
            subject=alice.person,
            categories=[catalogue.IDENTITY],
            reason="Vérification des droits",
            use=use,
        )
    assert disclosure.event.details["use"] == use
    code, text = check("--only", "T9")
    assert code == 0, text


def test_t9_leaves_out_a_disclosure_to_a_recipient_of_other_purposes(alice, bob, restricted):
    # The printer serves communication only: a restriction on the contract does not stop it.
    with transaction.atomic():
        audit.record_disclosure(
            recipient=catalogue.PRINTER,
            subject=alice.person,
            categories=[catalogue.IDENTITY],
            reason="Courrier d'information",
        )
    code, text = check("--only", "T9")
    assert code == 0, text


def test_the_guard_refuses_a_disclosure_of_restricted_data(alice, bob, restricted):
    with pytest.raises(restrictions.ProcessingRestricted):
        audit.record_disclosure(
            recipient=catalogue.MANDATORY_SCHEMES,
            subject=alice.person,
            categories=[catalogue.IDENTITY],
            reason="Télétransmission",
            actor=bob,
        )
    assert not Event.objects.filter(tag="audit:disclosure:create").exists()
    assert Event.objects.filter(tag="privacy:restriction:refuse").count() == 1


RESTRICTIONS_READ = 'FROM "privacy_restriction"'


def test_a_clearance_asked_ahead_spares_the_disclosure_a_second_asking(alice, bob, restricted):
    use = "recipients:check:answer"
    restrictions.allow_for_legal_claims(
        restriction=restricted, use=use, reason="Litige sur un remboursement", actor=bob
    )
    clearance = audit.clear_disclosure(
        recipient=catalogue.HEALTH_PROFESSIONALS, subject=alice.person, use=use
    )
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit.record_disclosure(
            recipient=catalogue.HEALTH_PROFESSIONALS,
            subject=alice.person,
            categories=[catalogue.IDENTITY],
            reason="Vérification des droits",
            use=use,
            clearance=clearance,
        )
    assert not [q for q in queries.captured_queries if RESTRICTIONS_READ in q["sql"]]
    # One override use recorded, one disclosure made under it: T9 pairs them.
    assert Event.objects.filter(tag="privacy:restriction:override_use").count() == 1
    code, text = check("--only", "T9")
    assert code == 0, text


def test_a_clearance_covers_only_the_person_recipient_and_use_it_was_asked_for(
    alice, dave, restricted
):
    clearance = audit.clear_disclosure(
        recipient=catalogue.HEALTH_PROFESSIONALS, subject=dave.person
    )
    others = [
        {"recipient": catalogue.HEALTH_PROFESSIONALS, "subject": alice.person},  # another person
        {"recipient": catalogue.MANDATORY_SCHEMES, "subject": alice.person},
    ]
    for other in others:
        with pytest.raises(restrictions.ProcessingRestricted):
            audit.record_disclosure(
                **other,
                categories=[catalogue.IDENTITY],
                reason="Vérification des droits",
                clearance=clearance,
            )
    # Nor is an answer for alice under one use an answer under another.
    alice_clearance = dataclasses.replace(clearance, subject_id=str(alice.person.pk))
    with pytest.raises(restrictions.ProcessingRestricted):
        audit.record_disclosure(
            recipient=catalogue.HEALTH_PROFESSIONALS,
            subject=alice.person,
            categories=[catalogue.IDENTITY],
            reason="Vérification des droits",
            use="recipients:check:answer",
            clearance=alice_clearance,
        )
    assert not Event.objects.filter(tag="audit:disclosure:create").exists()
    assert Event.objects.filter(tag="privacy:restriction:refuse").count() == 3


def test_the_guard_asks_once_for_a_recipient_of_several_purposes(alice, bob):
    # Authorities serve five purposes; a restriction on any one of them stops a disclosure.
    restrictions.start(
        subject=alice.person,
        purpose=catalogue.COMPLAINTS,
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
        actor=bob,
    )
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(restrictions.ProcessingRestricted),
    ):
        audit.clear_disclosure(recipient=catalogue.AUTHORITIES, subject=alice.person)
    assert len([q for q in queries.captured_queries if RESTRICTIONS_READ in q["sql"]]) == 1
    refusal = Event.objects.get(tag="privacy:restriction:refuse")
    assert refusal.details == {"use": "audit:disclosure:create", "purpose": "complaints"}
    audit.clear_disclosure(recipient=catalogue.PRINTER, subject=alice.person)  # not its purpose


def test_every_use_passed_to_the_guard_is_declared():
    declared = restrictions.uses_covered_by(restrictions.ALL_PURPOSES)
    assert {"members:nir:reveal", "billing:iban:reveal", "audit:disclosure:create"} <= declared
    assert "members:nir:reveal" in restrictions.uses_covered_by(catalogue.CONTRACT.code)
    assert "members:nir:reveal" not in restrictions.uses_covered_by(catalogue.COMMUNICATION.code)
    with pytest.raises(ValueError, match="not declared"):
        restrictions.ensure_allowed("x", purpose=catalogue.CONTRACT, use="members:nir:export")


# --- T11: the audit log is intact --------------------------------------------------------------
def test_t11_names_a_modified_audit_event(alice, published):
    assert check("--only", "T11")[0] == 0
    event = Event.objects.order_by("id").first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        cursor.execute("UPDATE audit_event SET actor = %s WHERE id = %s", ["user:999", event.pk])
    code, text = check("--only", "T11")
    assert code == 1
    (line,) = breaches_of("T11", text)
    assert "modifié" in line


# --- T12: the published policy is the one the declaration renders ----------------------------
def test_t12_names_a_declaration_changed_without_a_new_dated_version(settings, published):
    assert check("--only", "T12")[0] == 0
    settings.MUTUALIS_ORGANISATION = {**settings.MUTUALIS_ORGANISATION, "dpo_email": "x@y.fr"}
    code, text = check("--only", "T12")
    assert code == 1
    assert "publiez une nouvelle version" in breaches_of("T12", text)[0]
    with time_machine.travel(at(2027, 3, 2, 9), tick=False):
        policy.publish()
    assert check("--only", "T12")[0] == 0


def test_t12_names_a_policy_never_published(db):
    code, text = check("--only", "T12")
    assert code == 1 and "aucune version publiée" in breaches_of("T12", text)[0]
