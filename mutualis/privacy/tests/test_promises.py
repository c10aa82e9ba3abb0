"""`privacy_check` on a database built to break each checkable promise once.

Before enforcement it names every breach; after `enforce_retention` at a date past each rule (and
the late answers sent), it is clean.
"""

from __future__ import annotations

import datetime
import io
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from mutualis.contact import services as contact
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Channel, ComplainantType, Complaint
from mutualis.contracts.testing import make_person_data
from mutualis.members import services as members
from mutualis.rights import services as rights
from mutualis.rights.models import RightsRequest
from mutualis.vault.services import shred

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"
NOW = datetime.datetime(2027, 3, 1, 12, tzinfo=PARIS)


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def _check() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("privacy_check", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def broken(bob):
    """One breach of each promise."""
    # 1. An e-mail body kept beyond three months.
    with time_machine.travel(at(2026, 11, 5, 9), tick=False):
        ingest((FIXTURES / "latin1_qp.eml").read_bytes())
    # 2. A record past its stage: a complaint closed long ago, never archived.
    with time_machine.travel(at(2026, 9, 1, 10), tick=False):
        inquiry = contact.open_inquiry(
            channel=Channel.PHONE, subject="Litige", body="x", contact_name="A"
        )
        closed = contact.qualify_as_complaint(
            inquiry=inquiry, complainant_type=ComplainantType.PROSPECT, reason="Délai"
        )
        contact.answer(inquiry=inquiry, body="Réponse", actor=bob)
        contact.close_complaint(complaint=closed, outcome="rejected", actor=bob)
    # 3. A shredded person whose row is still there.
    person = members.create_person(data=make_person_data(email="erased@example.org"))
    shred(person)
    # 4. A complaint neither acknowledged nor answered in time.
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        late = contact.open_inquiry(
            channel=Channel.LETTER, subject="Plainte", body="x", contact_name="B"
        )
        contact.qualify_as_complaint(
            inquiry=late, complainant_type=ComplainantType.PROSPECT, reason="Accueil"
        )
    # 5. A rights request past its one-month deadline.
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
    return {"late_complaint": late, "request": request}


def test_privacy_check_names_each_breach_then_is_clean(broken, bob):
    with time_machine.travel(NOW, tick=False):
        code, text = _check()
        assert code == 1
        assert "contact.Message" in text  # 1. e-mail body past three months
        assert "contact.Complaint" in text and "à archiver" in text  # 2. past its stage
        assert "members.Person" in text and "personne effacée" in text  # 3. shredded, still there
        assert "sans accusé de réception" in text and "sans réponse" in text  # 4. complaint
        assert broken["request"].reference in text  # 5. rights request late
        assert text.count("MANQUEMENT") >= 6

        call_command("enforce_retention", stdout=io.StringIO())
        contact.answer(inquiry=broken["late_complaint"], body="Réponse", actor=bob)
        request = RightsRequest.objects.get(pk=broken["request"].pk)
        rights.answer(request=request, outcome="granted", text="Copie envoyée.", actor=bob)

        code, text = _check()
        assert (code, text.strip()) == (
            0,
            "Aucun manquement : chaque engagement vérifiable est tenu.",
        )
    assert not Complaint.objects.filter(archived_at__isnull=True, closed_at__isnull=False)
