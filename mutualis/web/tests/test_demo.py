"""`manage.py demo` loads the demo data once, prints the logins, and changes nothing when rerun."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from mutualis.audit.models import Event
from mutualis.contracts.demo import DEMO_PASSWORD
from mutualis.members.models import Member, User
from mutualis.privacy.models import PolicyVersion

pytestmark = pytest.mark.django_db


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_is_idempotent_and_prints_the_logins():
    first = _demo()
    counts = (Member.objects.count(), User.objects.count(), PolicyVersion.objects.count())
    events = Event.objects.count()
    second = _demo()

    assert counts[0] >= 4 and counts[2] == 1
    assert (Member.objects.count(), User.objects.count(), PolicyVersion.objects.count()) == counts
    assert Event.objects.count() == events
    for output in (first, second):
        assert "alice@example.org" in output
        assert DEMO_PASSWORD in output
        assert "http://127.0.0.1:8000/" in output


def test_demo_members_can_log_in(client):
    _demo()
    alice = Member.objects.get(person__email="alice@example.org")
    assert alice.account.check_password(DEMO_PASSWORD)
    assert alice.beneficiaries.count() == 1


def test_demo_has_campaigns_and_audience_figures_for_the_dashboards():
    from mutualis.audience.models import AudienceEvent, DailyAggregate
    from mutualis.consent.models import Campaign, Delivery, DeliveryStatus
    from mutualis.members.models import Person

    _demo()
    sent = Campaign.objects.get(status="sent")
    reached = set(
        Delivery.objects.filter(campaign=sent, status=DeliveryStatus.SENT).values_list(
            "person__email", flat=True
        )
    )
    assert reached == {"alice@example.org", "ines@example.org"}  # who chose newsletter by e-mail
    marc = Person.objects.get(email="marc@example.org")
    assert not Delivery.objects.filter(person=marc).exists()  # objected
    assert Campaign.objects.filter(status="draft").count() == 1
    postal = Campaign.objects.get(channel="post")
    assert set(postal.deliveries.values_list("person__email", flat=True)) == {"dave@example.org"}
    assert AudienceEvent.objects.exists() and DailyAggregate.objects.exists()
    _demo()
    assert Campaign.objects.count() == 3
