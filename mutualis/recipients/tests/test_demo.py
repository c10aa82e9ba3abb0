"""The demo: a pharmacy whose printed key checks a demo member, a scheme, an authority with a
requisition waiting for the DPO; a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from mutualis.members.models import Member
from mutualis.partners.tests.helpers import check
from mutualis.recipients import demo
from mutualis.recipients.models import Credential, Organisation
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
