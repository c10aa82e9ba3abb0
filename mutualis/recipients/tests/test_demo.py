"""The demo: a pharmacy whose printed key checks a demo member, a scheme, an authority with a
requisition waiting for the DPO; a second run changes nothing. And the issue's "done when" on
the demo data: a check seen in the access copy and the DPO's register with privacy_check clean,
and an exchange file's round trip."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from mutualis.members.models import Member
from mutualis.partners.tests.helpers import check
from mutualis.recipients import demo
from mutualis.recipients.models import Credential, Organisation, RightsCheck
from mutualis.recipients.models_requisitions import Requisition, RequisitionStatus

pytestmark = pytest.mark.django_db


def test_the_printed_key_checks_a_demo_member_and_a_rerun_changes_nothing(client):
    out = StringIO()
    call_command("demo", stdout=out)
    assert demo.DEMO_KEY in out.getvalue()
    alice = Member.objects.get(person__email="alice@example.org")
    body = {
        "numero_adherent": alice.number,
        "date_naissance": alice.person.birth_date.isoformat(),
        "date_soins": timezone.localdate().isoformat(),
    }
    assert check(client, demo.DEMO_KEY, body).json()["statut"] == "couvert"
    counts = (Organisation.objects.count(), Credential.objects.count(), Requisition.objects.count())
    call_command("demo", stdout=StringIO())
    assert (
        counts
        == (
            Organisation.objects.count(),
            Credential.objects.count(),
            Requisition.objects.count(),
        )
        == (3, 1, 1)
    )
    assert Requisition.objects.get().status == RequisitionStatus.RECEIVED


def _demo() -> Member:
    """The demo data, loaded as ``manage.py demo`` (``make run``) loads them; its member alice."""
    call_command("demo", stdout=StringIO())
    return Member.objects.select_related("person", "account").get(person__email="alice@example.org")


def test_the_demo_pharmacy_checks_a_demo_member_seen_in_her_access_copy_and_the_dpo_register(
    client,
):
    """Done when (issue): the demo pharmacy's key checks a demo member's rights, the disclosure
    appears in the member's access copy and in the DPO's register, privacy_check stays clean."""
    from mutualis.backoffice.demo import demo_email
    from mutualis.backoffice.testing import login_verified
    from mutualis.members.models import User
    from mutualis.rights import handlers, processing
    from mutualis.rights.models import Kind

    alice = _demo()
    body = {
        "numero_adherent": alice.number,
        "date_naissance": alice.person.birth_date.isoformat(),
        "date_soins": timezone.localdate().isoformat(),
    }
    answer = check(client, demo.DEMO_KEY, body)
    assert answer.status_code == 200 and answer.json()["statut"] == "couvert"
    disclosure = RightsCheck.objects.get(pk=answer.json()["reference"]).disclosure
    assert disclosure.subject_id == str(alice.person_id)

    request = processing.request_from_member_space(member=alice, kind=Kind.ACCESS)
    copy = handlers.access_copy(request=request, actor=alice.account)
    (entry,) = [d for d in copy["disclosures"] if d["recipient"] == "Professionnels de santé"]
    assert "Pharmacie du Centre" in entry["reason"]
    assert sorted(entry["categories"]) == ["Contrat", "Identité"]

    dpo = User.objects.get(email=demo_email("dpo"))  # the demo's DPO
    staff = Client()
    login_verified(staff, dpo)
    page = staff.get("/gestion/communications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'<th scope="row">{disclosure.pk}</th>' in text
    assert f"(adhérent n° {alice.number})" in text and "Pharmacie du Centre" in text

    out = StringIO()
    call_command("privacy_check", stdout=out)  # exits non-zero (SystemExit) on any breach
    assert "Aucun manquement" in out.getvalue()


def test_a_scheme_exchange_file_round_trips_on_the_demo_data(tmp_path, settings):
    """Done when (issue): the day's file goes out to the demo scheme organisation, its
    acknowledgement (one line rejected) comes back in; each line is a disclosure, the rejected
    person waits in the gestion service's queue, privacy_check's T6 stays clean."""
    from mutualis.audit.models import Disclosure
    from mutualis.privacy import promises
    from mutualis.recipients.exchange import format as fmt
    from mutualis.recipients.models_exchange import ExchangeFile, ExchangeLine, ExchangeStatus

    _demo()
    out = StringIO()
    call_command("scheme_exchange", "--out", str(tmp_path), stdout=out)
    (sent,) = tmp_path.glob("MTLAFF-*.txt")
    exchange = ExchangeFile.objects.get()
    assert exchange.organisation.name == "CPAM de Paris"
    records = fmt.split_records(sent.read_bytes(), fmt.OUTBOUND_FORMAT)
    people = [fields for _, fields in records[1:-1] if fields["type"] == fmt.AFFILIATION]
    assert len(people) == exchange.affiliations >= 2
    assert Disclosure.objects.filter(recipient="mandatory_schemes").count() == len(people)
    settings.DEBUG = True  # --simulate-ack is a development tool
    call_command("scheme_exchange", "--simulate-ack", str(sent), "--reject", "2:002", stdout=out)
    (ack,) = tmp_path.glob("MTLARL-*.txt")
    call_command("scheme_exchange", "--import", str(ack), stdout=out)
    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.ACKNOWLEDGED
    assert [(line.number, line.reject_code) for line in ExchangeLine.objects.to_resolve()] == [
        (2, "002")
    ]
    assert not ExchangeLine.objects.filter(status="pending").exists()
    assert [b for r in promises.run(only=["T6"]) for b in r.breaches] == []
    call_command("scheme_exchange", "--import", str(ack), stdout=out)
    assert "déjà importé" in out.getvalue()
