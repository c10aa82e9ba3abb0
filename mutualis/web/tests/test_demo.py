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


def test_demo_links_follow_the_site_address_of_make_run_port(settings):
    settings.MUTUALIS_SITE_URL = "http://127.0.0.1:8001"
    output = _demo()
    assert "8000" not in output
    assert "http://127.0.0.1:8001/espace/connexion/" in output
    assert "http://127.0.0.1:8001/gestion/connexion/" in output


def test_in_development_emails_go_to_readable_files_and_the_logins_come_first(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "mutualis.lib.devmail.EmailBackend"
    settings.MUTUALIS_DEV_MAIL_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        output = _demo()
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[0].startswith("Mutualis — démonstration prête")
    assert "Content-Type" not in output and "=?utf-8?" not in output
    assert output.index("alice@example.org") < output.index(str(tmp_path))
    for path in tmp_path.glob("*.eml"):
        assert "=?utf-8?" not in path.read_text()  # headers readable as they are


def test_the_demo_gives_the_dpo_something_to_look_at_and_keeps_every_promise():
    from mutualis.contact.models import Complaint
    from mutualis.privacy.models import LegalHold, Restriction, RetentionRun
    from mutualis.rights.models import RightsRequest, Status

    _demo()
    statuses = set(RightsRequest.objects.values_list("status", flat=True))
    assert {Status.RECEIVED, Status.AWAITING_IDENTITY, Status.IN_PROGRESS} <= statuses
    assert {Status.ANSWERED, Status.CLOSED} <= statuses
    assert Complaint.objects.filter(acknowledged_at__isnull=True).exists()
    assert Complaint.objects.filter(archived_at__isnull=False).exists()
    assert LegalHold.objects.active().exists() and Restriction.objects.active().exists()
    assert RetentionRun.objects.exists() or Event.objects.filter(tag="privacy:retention:archive")
    out = io.StringIO()
    call_command("privacy_check", stdout=out)  # exits 0: every promise kept
    assert "Aucun manquement" in out.getvalue()


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
