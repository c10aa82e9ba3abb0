"""Periodic jobs started twice at once, as two cron hosts would: one run's end state, no double
work. The real test is on PostgreSQL (several hosts share it); SQLite's lock file is checked too.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import threading
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction

from mutualis.audit.models import ChainLink, Event
from mutualis.audit.sequencer import sequence_all
from mutualis.audit.services import record
from mutualis.audit.verify import verify_chain
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Message
from mutualis.lib.jobs import exclusive_job, file_lock
from mutualis.privacy.models import RetentionRun

FIXTURES = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"
EMAILS = ("latin1_qp.eml", "html_only.eml", "reply_cp1252.eml", "multipart_attachments.eml")


def _twice_at_once(command: str, *args: str) -> list[str]:
    """Run ``command`` in two threads (two connections) released at the same instant."""
    start = threading.Barrier(2)
    outputs: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out = io.StringIO()
            start.wait()
            call_command(command, *args, stdout=out)
            outputs.append(out.getvalue())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return outputs


def _holding(name: str):
    """Another host's run of ``name``: holds the job until the returned event is set."""

    @contextlib.contextmanager
    def run():
        with exclusive_job(name) as acquired:
            assert acquired
            yield

    return _held(run)


def _held(hold_it):
    """Enter ``hold_it()`` in another thread (its own connection) and stay in it until the
    returned event is set; returns (that event, the thread)."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with hold_it():
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(timeout=30)
    return release, thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_another_host_is_running_steps_aside_then_runs(tmp_path):
    for name in EMAILS:
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    release, other = _holding("fetch_mail")
    try:
        out = io.StringIO()
        call_command("fetch_mail", "--path", str(tmp_path), stdout=out)
        assert "fetch_mail est déjà en cours" in out.getvalue()
        assert not Message.objects.exists()
    finally:
        release.set()
        other.join()
    call_command("fetch_mail", "--path", str(tmp_path), stdout=io.StringIO())
    assert Message.objects.count() == len(EMAILS)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fetch_mail_twice_at_once_stores_each_message_once(tmp_path):
    for name in EMAILS:
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())

    outputs = _twice_at_once("fetch_mail", "--path", str(tmp_path))

    assert Message.objects.count() == len(EMAILS)
    assert (
        Event.objects.filter(tag__startswith="contact:").count()
        == Event.objects.filter(tag__startswith="contact:").values("target").distinct().count()
    )
    assert sum("4 messages enregistrés" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_enforce_retention_twice_at_once_ends_as_one_run():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC), tick=False):
        for name in EMAILS:
            ingest((FIXTURES / name).read_bytes())
    bodies = Message.objects.exclude(body="").count()
    assert bodies

    outputs = _twice_at_once("enforce_retention", "--as-of", "2026-12-02")

    assert Message.objects.exclude(body="").count() == 0  # e-mails past three months: emptied
    # Each message was emptied once: the batches' audited row counts add up to it, whether
    # the second run stepped aside or came after the first and found nothing left to do.
    batches = Event.objects.filter(
        tag="privacy:retention:anonymise", details__model="contact.Message"
    )
    assert sum(e.details["rows"] for e in batches) == bodies
    stepped_aside = sum("déjà en cours" in out for out in outputs)
    assert stepped_aside + RetentionRun.objects.filter(dry_run=False).count() == 2
    assert verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sequencers_at_once_place_each_event_once():
    for i in range(50):
        with transaction.atomic():
            record("members:member:update", actor=f"staff:{i}")

    _twice_at_once("audit_sequence", "--batch-size", "7")
    sequence_all()

    assert ChainLink.objects.count() == Event.objects.count()
    assert list(ChainLink.objects.values_list("seq", flat=True)) == list(range(1, 51))
    assert verify_chain().ok


def test_the_lock_file_of_one_host_keeps_a_second_run_out(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with file_lock("fetch_mail") as first, file_lock("fetch_mail") as second:
        assert (first, second) == (True, False)
    with file_lock("fetch_mail") as again:
        assert again


# --- Every other periodic job the deploy/ timers start, twice at once -----------------------
# Each run ends in the state of one run: the second one either stepped aside (the lock) or came
# after the first had finished and found nothing left to do. Never both doing the work.
def _one_did_the_work(outputs: list[str], nothing_left: str) -> None:
    assert len(outputs) == 2
    idle = sum("est déjà en cours" in out or nothing_left in out for out in outputs)
    assert idle == 1, outputs


PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_send_campaigns_twice_at_once_sends_each_message_once(smtp_server, alice, dave, bob):
    from mutualis.consent import campaigns
    from mutualis.consent.models import Delivery, DeliveryStatus

    campaigns.start_sending(campaign=_newsletter((alice, dave), bob), actor=bob)

    outputs = _twice_at_once("send_campaigns", "--rate", "0")

    received = sorted(address for m in smtp_server.messages for address in m.rcpt_tos)
    assert received == sorted([alice.account.email, dave.account.email])
    assert sorted(Delivery.objects.values_list("status", "attempts")) == [
        (DeliveryStatus.SENT, 1),
        (DeliveryStatus.SENT, 1),
    ]
    _one_did_the_work(outputs, "Aucune campagne à envoyer.")


def _newsletter(members, actor):
    """A draft newsletter to ``members``, each of whom accepts it."""
    from mutualis.consent import campaigns
    from mutualis.consent import services as consent
    from mutualis.consent.models import Source

    for member in members:
        consent.grant(
            person=member.person, topic="newsletter", channel="email", source=Source.MEMBER_SPACE
        )
    return campaigns.create_campaign(
        title="Lettre de mai",
        kind="newsletter",
        channel="email",
        subject="Nos nouvelles de mai",
        body="Bonjour {prenom},\n\nLe mois de mai.",
        actor=actor,
    )


def _requested_newsletter(members, actor):
    """The same, its sending asked for from the back office."""
    from mutualis.consent import campaigns

    return campaigns.request_sending(campaign=_newsletter(members, actor), actor=actor)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_send_campaigns_twice_at_once_freezes_a_requested_audience_once(
    smtp_server, alice, dave, bob, monkeypatch
):
    from mutualis.consent import campaigns
    from mutualis.consent.models import Campaign, CampaignStatus, Delivery, DeliveryStatus

    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 1)  # two people: left to the job
    campaign = _requested_newsletter((alice, dave), bob)
    assert campaign.status == CampaignStatus.PREPARING

    outputs = _twice_at_once("send_campaigns", "--rate", "0")

    assert sum("destinataires arrêtés : 2" in out for out in outputs) == 1
    assert Delivery.objects.count() == 2
    assert sorted(Delivery.objects.values_list("status", "attempts")) == [
        (DeliveryStatus.SENT, 1),
        (DeliveryStatus.SENT, 1),
    ]
    assert len(smtp_server.messages) == 2
    assert Campaign.objects.get().status == CampaignStatus.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_requested_campaign_another_run_holds_is_left_to_it(alice, bob, monkeypatch):
    """Without the job's own lock too: the campaign's row lock keeps a second freeze out."""
    from mutualis.consent import campaigns
    from mutualis.consent.models import Campaign, CampaignStatus, Delivery

    monkeypatch.setattr(campaigns, "IN_REQUEST_RECIPIENTS", 0)
    campaign = _requested_newsletter((alice,), bob)

    @contextlib.contextmanager
    def row_locked():
        with transaction.atomic():
            Campaign.objects.select_for_update().get(pk=campaign.pk)
            yield

    release, thread = _held(row_locked)
    try:
        assert campaigns.freeze_requested(campaign) is None
    finally:
        release.set()
        thread.join()
    assert not Delivery.objects.exists()
    assert campaigns.freeze_requested(campaign).status == CampaignStatus.SENDING
    assert Delivery.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_send_policy_notices_twice_at_once_tells_each_member_once(
    smtp_server, alice, dave, settings
):
    from mutualis.contracts.models import PolicyNotice
    from mutualis.privacy import policy

    settings.MUTUALIS_ORGANISATION = {
        **settings.MUTUALIS_ORGANISATION,
        "dpo_email": "protection-donnees@mutuelle.example",
    }
    with time_machine.travel(datetime.datetime(2030, 6, 1, 9, tzinfo=PARIS), tick=False):
        version, created = policy.publish()
    assert created

    outputs = _twice_at_once("send_policy_notices")

    received = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert received == ["alice@example.org", "dave@example.org"]
    assert PolicyNotice.objects.filter(version=version).count() == 2
    told = Event.objects.filter(tag="contracts:policy:notice")
    assert sum(e.details["members"] for e in told) == 2
    assert sum("2 avis envoyés" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_aggregate_statistics_twice_at_once_counts_each_day_once():
    from mutualis.audience.models import AggregatedDay, AudienceEvent

    day = datetime.date(2026, 4, 14)
    for n, visitor in enumerate("aabbc"):
        AudienceEvent.objects.create(
            visitor=visitor * 32,
            visitor_since=day,
            at=datetime.datetime.combine(day, datetime.time(9 + n), tzinfo=PARIS),
            kind="view",
            page="web:home",
            browser="Firefox",
        )
    later = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(3))
    with time_machine.travel(later.replace(tzinfo=PARIS), tick=False):
        outputs = _twice_at_once("aggregate_statistics")

    assert list(AggregatedDay.objects.values_list("day", "events")) == [(day, 5)]
    runs = Event.objects.filter(tag="audience:day:aggregate")
    assert [(e.details["days"], e.details["events"]) for e in runs] == [(1, 5)]
    _one_did_the_work(outputs, "Aucun jour à agréger.")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prune_backups_twice_at_once_deletes_each_backup_once(settings, tmp_path):
    from mutualis.privacy import policy

    policy.publish(datetime.date(2026, 1, 1))
    settings.MUTUALIS_BACKUP_DIR = str(tmp_path)
    with time_machine.travel(datetime.datetime(2027, 1, 20, 2, tzinfo=PARIS), tick=False):
        call_command("backup", str(tmp_path / "old.bak"), verbosity=0)
    with time_machine.travel(datetime.datetime(2027, 2, 25, 2, tzinfo=PARIS), tick=False):
        call_command("backup", str(tmp_path / "recent.bak"), verbosity=0)

    with time_machine.travel(datetime.datetime(2027, 3, 1, 9, tzinfo=PARIS), tick=False):
        outputs = _twice_at_once("prune_backups")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["recent.bak"]
    pruned = Event.objects.filter(tag="vault:backup:prune")
    assert sum(e.details["deleted"] for e in pruned) == 1
    assert sum("1 sauvegarde supprimée" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_close_rights_requests_twice_at_once_closes_each_request_once(bob):
    from mutualis.rights import services as rights
    from mutualis.rights.models import Channel, Kind, Outcome, RightsRequest, Status

    with time_machine.travel(datetime.datetime(2026, 1, 5, 10, tzinfo=PARIS), tick=False):
        for n in range(3):
            request = rights.file_request(
                kind=Kind.ACCESS,
                requester_name=f"Marc Leroy {n}",
                requester_email=f"marc.leroy{n}@example.org",
                channel=Channel.LETTER,
                identity_verified=True,
                actor=bob,
            )
            rights.answer(request=request, outcome=Outcome.GRANTED, text="Voici.", actor=bob)

    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, tzinfo=PARIS), tick=False):
        outputs = _twice_at_once("close_rights_requests")

    assert set(RightsRequest.objects.values_list("status", flat=True)) == {Status.CLOSED}
    closes = Event.objects.filter(tag="rights:request:close")
    assert closes.count() == closes.values("target").distinct().count() == 3
    _one_did_the_work(outputs, "Aucune demande à clore.")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_purge_subscription_drafts_twice_at_once_shreds_each_key_once():
    from django.utils import timezone

    from mutualis.contracts import drafts
    from mutualis.contracts.models import SubscriptionDraft
    from mutualis.vault.models import DataKey, ShredRecord

    expired = [drafts.start_draft(data={"steps": {}}) for _ in range(3)]
    fresh = drafts.start_draft(data={"steps": {}})
    SubscriptionDraft.objects.filter(pk__in=[d.pk for d in expired]).update(
        expires_at=timezone.now()
    )

    outputs = _twice_at_once("purge_subscription_drafts")

    assert list(SubscriptionDraft.objects.all()) == [fresh]
    keys = {d.data_key_id for d in expired}
    assert sorted(ShredRecord.objects.values_list("data_key_id", flat=True)) == sorted(keys)
    assert not DataKey.objects.filter(pk__in=keys).exists()
    assert sum("3 adhésions en ligne expirées supprimées" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scheme_exchange_twice_at_once_writes_one_file_and_discloses_each_person_once(
    alice, dave, tmp_path
):
    from mutualis.audit.models import Disclosure
    from mutualis.recipients.models_exchange import ExchangeFile
    from mutualis.recipients.testing import make_scheme

    make_scheme()

    outputs = _twice_at_once("scheme_exchange", "--out", str(tmp_path))

    assert len(list(tmp_path.iterdir())) == 1
    assert ExchangeFile.objects.count() == 1
    disclosed = Disclosure.objects.values_list("subject_id", flat=True)
    assert len(disclosed) == len(set(disclosed)) == 4  # two members, two children
    assert sum("empreinte SHA-256" in out for out in outputs) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_billing_cycle_twice_at_once_announces_each_debit_once():
    from mutualis.billing.models import Instalment, PreNotification
    from mutualis.billing.testing import on, subscribed_on

    day = datetime.date(2026, 12, 1)
    subscribed_on(day, first_names="Alice", email="alice@example.org", seed=1)
    subscribed_on(day, first_names="Dave", email="dave@example.org", seed=2, children=0)

    with on(day, hour=2):
        _twice_at_once("billing_cycle")

    # December 2026 to December 2027 (next year's schedule is announced from 1 November).
    assert Instalment.objects.count() == 2 * 13
    announced = list(PreNotification.objects.values_list("mandate_id", "collection_date"))
    assert len(announced) == len(set(announced)) == 2 * 12
    with on(day, hour=3):
        call_command("billing_cycle", stdout=io.StringIO())
    assert PreNotification.objects.count() == 2 * 12  # and a later run finds nothing to do


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sepa_batch_twice_at_once_writes_one_file_and_debits_each_member_once(tmp_path):
    from mutualis.billing.models import Debit, LedgerEntry, LedgerKind
    from mutualis.billing.testing import cycle_on, on, subscribed_on

    day = datetime.date(2026, 12, 1)
    subscribed_on(day, first_names="Alice", email="alice@example.org", seed=1)
    subscribed_on(day, first_names="Dave", email="dave@example.org", seed=2, children=0)
    cycle_on(day)

    with on(datetime.date(2027, 1, 3), hour=6):
        outputs = _twice_at_once(
            "sepa_batch", "--collection-date", "2027-01-05", "--out", str(tmp_path)
        )

    assert [p.name for p in tmp_path.iterdir()] == ["prelevements-2027-01-05.xml"]
    assert Debit.objects.count() == 2
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEBIT).count() == 2
    assert sum("transmise" in out for out in outputs) == 1


# Every periodic job the deploy/ timers start steps aside while another host runs it.
PERIODIC_JOBS = [
    ("send_campaigns",),
    ("send_policy_notices",),
    ("aggregate_statistics",),
    ("prune_backups", "{tmp}"),
    ("close_rights_requests",),
    ("purge_subscription_drafts",),
    ("scheme_exchange", "--out", "{tmp}"),
    ("backup", "{tmp}/data.bak"),
    ("backup_keys", "{tmp}/keys.bak"),
    ("billing_cycle",),
    ("sepa_batch", "--next", "--out", "{tmp}"),
]


@pytest.mark.postgres
@pytest.mark.parametrize("command", PERIODIC_JOBS, ids=lambda c: c[0])
@pytest.mark.django_db(transaction=True)
def test_each_periodic_job_steps_aside_while_another_host_runs_it(command, tmp_path):
    name, *args = command
    args = [arg.format(tmp=tmp_path) for arg in args]
    release, other = _holding(name)
    try:
        out = io.StringIO()
        call_command(name, *args, stdout=out)
        assert f"{name} est déjà en cours" in out.getvalue()
    finally:
        release.set()
        other.join()
    assert list(tmp_path.iterdir()) == []  # nothing written while it stood aside
