"""Campaign e-mails through a real SMTP server on loopback: who receives them, what they carry,
the one-click unsubscribe (RFC 8058), failures, retries and a sending killed half-way."""

from __future__ import annotations

import datetime
import io
import re
import zoneinfo
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.consent import campaigns, sending, services
from mutualis.consent.models import ConsentEvent, Delivery, DeliveryStatus, Source
from mutualis.consent.sending import Throttle
from mutualis.consent.smtp import CampaignSMTPBackend, campaign_connection
from mutualis.consent.tags import ConsentTag
from mutualis.web.campaigns.links import campaign_links

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def subscribers(alice, dave):
    for member in (alice, dave):
        services.grant(
            person=member.person, topic="newsletter", channel="email", source=Source.MEMBER_SPACE
        )
    return alice, dave


def _campaign(bob, kind="newsletter"):
    campaign = campaigns.create_campaign(
        title="Lettre d'avril",
        kind=kind,
        channel="email",
        subject="Nos nouvelles d'avril",
        body="Bonjour {prenom},\n\nLe printemps est là.",
        actor=bob,
    )
    return campaigns.start_sending(campaign=campaign, actor=bob)


def _send(campaign, **kwargs):
    kwargs.setdefault("rate", 0)
    return sending.send_campaign(campaign=campaign, links=campaign_links(), **kwargs)


def _by_recipient(server) -> dict[str, list]:
    found: dict[str, list] = {}
    for received in server.messages:
        for address in received.rcpt_tos:
            found.setdefault(address, []).append(received)
    return found


def _unsubscribe_url(message) -> str:
    """The URL of the List-Unsubscribe header (``<…>``, possibly folded)."""
    value = message["List-Unsubscribe"].strip()
    assert value.startswith("<") and value.endswith(">")
    return value[1:-1]


def _statuses() -> dict[str, str]:
    return dict(Delivery.objects.values_list("person__email", "status"))


# --- Who gets what ------------------------------------------------------------------------------
def test_a_campaign_reaches_exactly_the_consenting_people(smtp_server, subscribers, bob):
    alice, dave = subscribers
    services.object_to_marketing(person=dave.person, source=Source.LETTER)  # after consenting
    campaign = _campaign(bob)
    report = _send(campaign)
    assert list(_by_recipient(smtp_server)) == [alice.account.email]
    assert report[DeliveryStatus.SENT] == 1
    (message,) = smtp_server.messages
    assert message.message["Subject"] == "Nos nouvelles d'avril"
    assert "Bonjour Alice," in message.body
    assert "vous avez accepté de recevoir" in message.body
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)
    assert row.sent_at is not None
    assert message.message["Message-ID"] == f"<{row.pk.hex}@127.0.0.1>"
    campaign.refresh_from_db()
    assert campaign.status == "sent" and campaign.finished_at is not None


def test_every_message_carries_a_one_click_unsubscribe(smtp_server, subscribers, bob):
    _send(_campaign(bob))
    for received in smtp_server.messages:
        headers = received.message
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = _unsubscribe_url(headers)
        assert re.fullmatch(r"http://127\.0\.0\.1:8000/desinscription/[^/]+/", url)
        assert headers["List-Id"].endswith("<newsletter.127.0.0.1>")
        assert url in received.body
        html = received.message.get_body(preferencelist=("html",)).get_content()
        assert f'href="{url}"' in html


def test_posting_what_the_header_says_to_the_header_s_url_unsubscribes_at_once(
    smtp_server, subscribers, bob
):
    alice, dave = subscribers
    campaign = _campaign(bob)
    _send(campaign)
    message = _by_recipient(smtp_server)[alice.account.email][0].message
    url = urlsplit(_unsubscribe_url(message))
    body = dict(parse_qsl(message["List-Unsubscribe-Post"]))
    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no token: a mail client
    response = mail_client.post(url.path, body)
    assert response.status_code == 200
    assert "vous ne recevrez plus" in response.content.decode()
    assert not services.current_preferences(alice.person)[("newsletter", "email")]
    assert services.current_preferences(dave.person)[("newsletter", "email")]
    withdrawal = ConsentEvent.objects.get(person=alice.person, action="withdrawn")
    assert (withdrawal.source, withdrawal.actor) == (Source.UNSUBSCRIBE_LINK, "anonymous")
    event = Event.objects.get(tag=ConsentTag.CONSENT_WITHDRAW)
    assert event.details["reference"] == f"consent.campaign:{campaign.pk}"
    assert Delivery.objects.get(person=alice.person).unsubscribed_at is not None
    # The next campaign leaves her out; pressing again records nothing new.
    assert mail_client.post(url.path, body).status_code == 200
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 1
    smtp_server.clear()
    _send(_campaign(bob))
    assert list(_by_recipient(smtp_server)) == [dave.account.email]


def test_opening_the_link_changes_nothing_until_the_button_is_pressed(
    smtp_server, subscribers, client, bob
):
    alice, _ = subscribers
    _send(_campaign(bob))
    url = _unsubscribe_url(_by_recipient(smtp_server)[alice.account.email][0].message)
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in page.content.decode()
    assert services.current_preferences(alice.person)[("newsletter", "email")]
    assert page["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # altered signature
        lambda token: "0" * 32 + token[32:],  # another row, same signature
    ],
)
def test_a_forged_link_unsubscribes_nobody(smtp_server, subscribers, client, bob, mangle):
    alice, _ = subscribers
    _send(_campaign(bob))
    url = _unsubscribe_url(_by_recipient(smtp_server)[alice.account.email][0].message)
    token = urlsplit(url).path.split("/")[2]
    response = client.post(f"/desinscription/{mangle(token)}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert services.current_preferences(alice.person)[("newsletter", "email")]


def test_a_post_without_the_one_click_body_changes_nothing(smtp_server, subscribers, client, bob):
    alice, _ = subscribers
    _send(_campaign(bob))
    url = _unsubscribe_url(_by_recipient(smtp_server)[alice.account.email][0].message)
    assert client.post(urlsplit(url).path, {"x": "y"}).status_code == 400
    assert services.current_preferences(alice.person)[("newsletter", "email")]


def test_service_information_has_no_unsubscribe_link(smtp_server, alice, bob):
    _send(_campaign(bob, kind="service"))
    (message,) = smtp_server.messages
    assert message.message["List-Unsubscribe"] is None
    assert "il concerne votre contrat" in message.body


# --- Honouring a change made during the sending ---------------------------------------------
def test_a_withdrawal_after_the_freeze_is_honoured_before_sending(smtp_server, subscribers, bob):
    alice, dave = subscribers
    campaign = _campaign(bob)
    services.withdraw(person=dave.person, topic="newsletter", channel="email", source="letter")
    _send(campaign)
    assert list(_by_recipient(smtp_server)) == [alice.account.email]
    assert _statuses()[dave.account.email] == DeliveryStatus.SKIPPED


# --- Failures --------------------------------------------------------------------------------
def test_a_permanent_refusal_is_recorded_with_its_code_and_not_retried(
    smtp_server, subscribers, bob
):
    alice, dave = subscribers
    smtp_server.refuse(dave.account.email)
    campaign = _campaign(bob)
    _send(campaign)
    row = Delivery.objects.get(person=dave.person)
    assert (row.status, row.error, row.attempts) == (DeliveryStatus.FAILED, "550", 1)
    assert _statuses()[alice.account.email] == DeliveryStatus.SENT
    campaign.refresh_from_db()
    assert campaign.status == "sent"


def test_a_temporary_failure_is_retried_later_and_delivered_once(smtp_server, subscribers, bob):
    alice, dave = subscribers
    smtp_server.defer(dave.account.email, times=1)
    start = datetime.datetime(2026, 4, 2, 10, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        campaign = _campaign(bob)
        _send(campaign)
    row = Delivery.objects.get(person=dave.person)
    assert (row.status, row.error, row.attempts) == (DeliveryStatus.PENDING, "451", 1)
    assert row.next_attempt_at == start + datetime.timedelta(seconds=300)
    with time_machine.travel(start + datetime.timedelta(seconds=299), tick=False):
        _send(campaign)  # not due yet
    assert Delivery.objects.get(person=dave.person).attempts == 1
    with time_machine.travel(start + datetime.timedelta(seconds=301), tick=False):
        _send(campaign)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (DeliveryStatus.SENT, 2, "")
    assert {a: len(m) for a, m in _by_recipient(smtp_server).items()} == {
        alice.account.email: 1,
        dave.account.email: 1,
    }


def test_after_the_last_attempt_a_temporary_failure_is_a_failure(
    smtp_server, subscribers, bob, settings
):
    _, dave = subscribers
    settings.MUTUALIS_CAMPAIGN_MAX_ATTEMPTS = 2
    smtp_server.defer(dave.account.email, times=5)
    start = datetime.datetime(2026, 4, 2, 10, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        campaign = _campaign(bob)
        _send(campaign)
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        _send(campaign)
    row = Delivery.objects.get(person=dave.person)
    assert (row.status, row.error, row.attempts) == (DeliveryStatus.FAILED, "451", 2)


def test_an_unreachable_server_leaves_every_row_to_send_later(subscribers, bob, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    campaign = _campaign(bob)
    report = _send(campaign)
    assert report.stopped == sending.CONNECTION
    assert set(_statuses().values()) == {DeliveryStatus.PENDING}
    campaign.refresh_from_db()
    assert campaign.status == "sending"


def test_a_connection_broken_while_the_server_reads_a_message_is_never_resent(
    smtp_server, subscribers, bob
):
    alice, dave = subscribers
    campaign = _campaign(bob)
    first = Delivery.objects.order_by(*sending.SENDING_ORDER).first().person.email
    smtp_server.drop_after_data(first)
    _send(campaign)
    statuses = _statuses()
    assert statuses[first] == DeliveryStatus.UNCERTAIN
    assert Delivery.objects.get(person__email=first).error == sending.NO_REPLY
    others = {alice.account.email, dave.account.email} - {first}
    assert {statuses[address] for address in others} == {DeliveryStatus.SENT}
    _send(campaign)
    assert {a: len(m) for a, m in _by_recipient(smtp_server).items()} == {
        alice.account.email: 1,
        dave.account.email: 1,
    }


class _DiesAfter(CampaignSMTPBackend):
    """A connection whose process dies right after the server took the n-th message."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.left = n

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        self.left -= 1
        if not self.left:
            raise KeyboardInterrupt("killed")
        return sent


def test_a_sending_killed_after_the_server_took_a_message_resumes_without_a_second_one(
    smtp_server, bob, settings
):
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    people = [
        create_person(data=make_person_data(first_names=f"P{i}", email=f"p{i}@example.org"))
        for i in range(6)
    ]
    for person in people:
        services.grant(person=person, topic="newsletter", channel="email", source="subscription")
    # After the database server's start (it would otherwise look restarted since the claim).
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    with time_machine.travel(start, tick=False):
        campaign = _campaign(bob)
        with pytest.raises(KeyboardInterrupt):
            _send(campaign, connection=_DiesAfter(2), batch_size=4)
    order = [r.person.email for r in Delivery.objects.order_by(*sending.SENDING_ORDER)]
    assert [_statuses()[a] for a in order] == [
        DeliveryStatus.SENT,
        DeliveryStatus.CLAIMED,  # the server took it; the log could not say so
        DeliveryStatus.CLAIMED,  # never started
        DeliveryStatus.CLAIMED,
        DeliveryStatus.PENDING,
        DeliveryStatus.PENDING,
    ]
    # Within the lease the claims are left alone (their run might still be alive)...
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        _send(campaign)
    assert [_statuses()[a] for a in order][:4] == [DeliveryStatus.SENT] + [
        DeliveryStatus.CLAIMED
    ] * 3
    # ... then the message in flight is uncertain, and the rest are sent.
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        report = _send(campaign)
    assert report[DeliveryStatus.UNCERTAIN] == 1
    assert [_statuses()[a] for a in order] == [
        DeliveryStatus.SENT,
        DeliveryStatus.UNCERTAIN,
        *[DeliveryStatus.SENT] * 4,
    ]
    received = _by_recipient(smtp_server)
    assert {address: len(messages) for address, messages in received.items()} == dict.fromkeys(
        order, 1
    )
    assert Event.objects.filter(tag=ConsentTag.CAMPAIGN_RECOVER).get().details == {
        "uncertain": 1,
        "released": 2,
    }
    campaign.refresh_from_db()
    assert campaign.status == "sent"


# --- Throttling and the command ------------------------------------------------------------------
def test_the_throttle_spaces_messages_to_the_rate():
    clock = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    throttle = Throttle(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        throttle.wait()
    clock[0] += 1.0  # a slow message: no need to wait after it
    throttle.wait()
    assert slept == [0.25, 0.25]
    assert Throttle(0).interval == 0


def test_the_command_sends_the_open_campaigns_over_one_smtp_connection(
    smtp_server, subscribers, bob
):
    campaign = _campaign(bob)
    out = io.StringIO()
    call_command("send_campaigns", "--rate", "0", stdout=out)
    campaign.refresh_from_db()
    assert campaign.status == "sent"
    assert "envoyé : 2" in out.getvalue()
    assert len(smtp_server.messages) == 2
    assert isinstance(campaign_connection(), CampaignSMTPBackend)
    out = io.StringIO()
    call_command("send_campaigns", stdout=out)
    assert "Aucune campagne à envoyer." in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--campaign", "pas-un-uuid"], "Identifiant de campagne invalide"),
        (["--batch-size", "0"], "--batch-size doit être un entier positif."),
        (["--rate", "-1"], "--rate ne peut pas être négatif."),
    ],
)
def test_the_command_refuses_bad_arguments_in_french(args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("send_campaigns", *args)


def test_send_time_is_the_log_s_own_time(smtp_server, subscribers, bob):
    moment = datetime.datetime(2026, 6, 1, 8, 30, tzinfo=PARIS)
    with time_machine.travel(moment, tick=False):
        _send(_campaign(bob))
    assert set(Delivery.objects.values_list("sent_at", flat=True)) == {moment}
    assert timezone.now() > moment


def test_on_the_demo_data_a_campaign_reaches_exactly_the_consenting_members(smtp_server, bob):
    from mutualis.consent.models import MarketingObjection
    from mutualis.members.models import Person

    call_command("demo", stdout=io.StringIO())
    campaign = _campaign(bob)
    _send(campaign)
    received = _by_recipient(smtp_server)
    consenting = set(
        services.marketing_audience(topic="newsletter", channel="email").values_list(
            "email", flat=True
        )
    )
    assert set(received) == consenting == {"alice@example.org", "ines@example.org"}
    objector = Person.objects.get(pk=MarketingObjection.objects.in_force().get().person_id)
    assert objector.email not in received
    for address, (message,) in received.items():
        url = urlsplit(_unsubscribe_url(message.message))
        body = dict(parse_qsl(message.message["List-Unsubscribe-Post"]))
        assert Client().post(url.path, body).status_code == 200
        person = Person.objects.get(email=address)
        assert not services.current_preferences(person)[("newsletter", "email")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sending_process_killed_by_sigkill_resumes_without_sending_anyone_twice(
    smtp_server, bob, settings, tmp_path
):
    """A real process, really killed (SIGKILL, nothing to clean up), then started again."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    for i in range(40):
        person = create_person(
            data=make_person_data(first_names=f"K{i}", email=f"k{i}@example.org")
        )
        services.grant(person=person, topic="newsletter", channel="email", source="subscription")
    campaign = _campaign(bob)
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "MUTUALIS_TESTING": "1",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "MUTUALIS_CAMPAIGN_RATE": "20",
        "MUTUALIS_CAMPAIGN_BATCH": "10",
        # A killed process removes nothing: its own directories go with the test's.
        "MUTUALIS_SEPA_OUT_DIR": str(tmp_path),
    }
    root = Path(__file__).resolve().parents[3]
    command = [sys.executable, str(root / "manage.py"), "send_campaigns"]
    process = subprocess.Popen(command, env=env, cwd=root)  # noqa: S603
    deadline = time.monotonic() + 120  # a safety net against a hung test, not a speed check
    while len(smtp_server.messages) < 12 and process.poll() is None:
        assert time.monotonic() < deadline, "the sending never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(smtp_server.messages)
    assert 12 <= killed_at < 40
    subprocess.run(  # noqa: S603
        command,
        env={**env, "MUTUALIS_CAMPAIGN_CLAIM_MINUTES": "0", "MUTUALIS_CAMPAIGN_RATE": "0"},
        cwd=root,
        check=True,
        capture_output=True,
    )
    counts = {a: len(m) for a, m in _by_recipient(smtp_server).items()}
    assert max(counts.values()) == 1  # nobody twice
    statuses = list(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses.count(DeliveryStatus.UNCERTAIN) <= 1
    assert statuses.count(DeliveryStatus.SENT) + statuses.count(DeliveryStatus.UNCERTAIN) == 40
    assert len(counts) >= 39
    campaign.refresh_from_db()
    assert campaign.status == "sent"


@pytest.mark.postgres
def test_after_a_database_restart_every_unsettled_row_of_a_dead_claim_is_uncertain(
    smtp_server, bob
):
    """Settlements commit without waiting for the disk: a database restart may have lost some,
    so none of the dead claim's rows is given back (the claim predates the server's start)."""
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    for i in range(5):
        person = create_person(
            data=make_person_data(first_names=f"R{i}", email=f"r{i}@example.org")
        )
        services.grant(person=person, topic="newsletter", channel="email", source="subscription")
    before_start = datetime.datetime(2020, 1, 6, 10, tzinfo=PARIS)
    with time_machine.travel(before_start, tick=False):
        campaign = _campaign(bob)
        with pytest.raises(KeyboardInterrupt):
            _send(campaign, connection=_DiesAfter(1), batch_size=4)
    _send(campaign)
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    # The batch of four was claimed, the first message left, the run died: four uncertain.
    assert statuses == [DeliveryStatus.SENT] + [DeliveryStatus.UNCERTAIN] * 4
    assert max(len(m) for m in _by_recipient(smtp_server).values()) == 1


# --- Each message a declared use, behind the restriction guard (GDPR art. 18) ------------------
def test_each_message_is_audited_as_a_declared_use_naming_its_recipient(
    smtp_server, subscribers, bob
):
    from mutualis.privacy import restrictions

    alice, dave = subscribers
    _send(_campaign(bob))
    _send(_campaign(bob, kind="service"))
    uses = Event.objects.filter(tag=ConsentTag.CAMPAIGN_DELIVER)
    assert sorted(uses.values_list("subject_id", flat=True)) == sorted(
        [str(alice.person.pk), str(dave.person.pk)]
    )
    assert {e.details["status"] for e in uses} == {DeliveryStatus.SENT}
    service = Event.objects.filter(tag=ConsentTag.SERVICE_DELIVER)
    assert service.count() == 2
    assert ConsentTag.CAMPAIGN_DELIVER in restrictions.uses_covered_by("communication")
    assert ConsentTag.SERVICE_DELIVER in restrictions.uses_covered_by("contract")
    assert ConsentTag.SERVICE_DELIVER not in restrictions.uses_covered_by("communication")


def test_privacy_check_t9_sees_a_campaign_message_to_a_restricted_person(subscribers, bob):
    from django.db import transaction

    from mutualis import audit
    from mutualis.privacy import restrictions
    from mutualis.privacy.promise_checks import restricted_people_are_only_stored

    alice, _ = subscribers
    restrictions.start(subject=alice.person, purpose="*", ground="restriction", reason="x")
    assert restricted_people_are_only_stored(timezone.now()).breaches == []
    with transaction.atomic():  # what a sender that went around the guard would leave
        audit.record(ConsentTag.CAMPAIGN_DELIVER, subject=alice.person, details={})
    (breach,) = restricted_people_are_only_stored(timezone.now()).breaches
    assert ConsentTag.CAMPAIGN_DELIVER in breach


class _Meanwhile(CampaignSMTPBackend):
    """A connection that does something (``then``) right after the server took a message."""

    def __init__(self, then, **kwargs):
        super().__init__(**kwargs)
        self.then, self.sent = then, 0

    def send_messages(self, email_messages):
        done = super().send_messages(email_messages)
        self.sent += 1
        self.then(self.sent)
        return done


def _people(n, prefix="M"):
    from mutualis.contracts.testing import make_person_data
    from mutualis.members.services import create_person

    people = [
        create_person(
            data=make_person_data(first_names=f"{prefix}{i}", email=f"{prefix}{i}@ex.org")
        )
        for i in range(n)
    ]
    for person in people:
        services.grant(person=person, topic="newsletter", channel="email", source="subscription")
    return people


def _in_order(campaign) -> list:
    return list(
        Delivery.objects.filter(campaign=campaign)
        .order_by(*sending.SENDING_ORDER)
        .values_list("person_id", flat=True)
    )


def test_a_restriction_started_after_the_claim_stops_that_message(smtp_server, bob):
    from mutualis.privacy import restrictions

    _people(3)
    campaign = _campaign(bob)
    order = _in_order(campaign)

    def restrict_the_last(sent):
        if sent == 1:
            restrictions.start(subject=order[2], purpose="*", ground="restriction", reason="x")

    report = _send(campaign, connection=_Meanwhile(restrict_the_last), batch_size=10)
    assert len(smtp_server.messages) == 2
    row = Delivery.objects.get(campaign=campaign, person_id=order[2])
    assert (row.status, row.error) == (DeliveryStatus.SKIPPED, sending.RESTRICTED)
    assert report[DeliveryStatus.SKIPPED] == 1
    refusal = Event.objects.get(tag="privacy:restriction:refuse")
    assert refusal.subject_id == str(order[2])
    assert refusal.details["use"] == ConsentTag.CAMPAIGN_DELIVER
    assert not Event.objects.filter(tag=ConsentTag.CAMPAIGN_DELIVER, subject_id=str(order[2]))


# --- Pause and cancel take effect after the message in flight ------------------------------------
def test_a_pause_stops_the_sending_after_the_message_in_flight(smtp_server, bob):
    _people(4)
    campaign = _campaign(bob)

    def pause_after_the_first(sent):
        if sent == 1:
            campaigns.pause(campaign=campaign, actor=bob)

    report = _send(campaign, connection=_Meanwhile(pause_after_the_first), batch_size=10)
    assert report.stopped == "paused"
    assert len(smtp_server.messages) == 1  # not the rest of the batch
    rows = Delivery.objects.filter(campaign=campaign)
    assert sorted(rows.values_list("status", flat=True)) == ["pending"] * 3 + ["sent"]
    assert not rows.filter(status=DeliveryStatus.PENDING).exclude(claim="").exists()
    campaigns.resume(campaign=campaign, actor=bob)
    _send(campaign)
    assert sorted(len(m) for m in _by_recipient(smtp_server).values()) == [1] * 4
    campaign.refresh_from_db()
    assert campaign.status == "sent"


def test_a_cancel_during_the_sending_cancels_the_rest_of_the_batch(smtp_server, bob):
    _people(4)
    campaign = _campaign(bob)

    def cancel_after_the_second(sent):
        if sent == 2:
            campaigns.cancel(campaign=campaign, actor=bob)

    report = _send(campaign, connection=_Meanwhile(cancel_after_the_second), batch_size=3)
    assert report.stopped == "cancelled"
    assert len(smtp_server.messages) == 2
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "sent", "sent"]  # claimed and pending alike


def test_the_claims_of_a_dead_run_on_a_campaign_cancelled_since_are_recovered(
    smtp_server, bob, settings
):
    _people(6)
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    with time_machine.travel(start, tick=False):
        campaign = _campaign(bob)
        with pytest.raises(KeyboardInterrupt):
            _send(campaign, connection=_DiesAfter(2), batch_size=4)
        campaigns.cancel(campaign=campaign, actor=bob)
    order = [r.person.email for r in Delivery.objects.order_by(*sending.SENDING_ORDER)]
    assert [_statuses()[a] for a in order] == ["sent"] + ["claimed"] * 3 + ["cancelled"] * 2
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        call_command("send_campaigns", stdout=io.StringIO())  # the run might still be alive
    assert list(_statuses().values()).count("claimed") == 3
    out = io.StringIO()
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        call_command("send_campaigns", stdout=out)
    assert [_statuses()[a] for a in order] == [
        "sent",
        "uncertain",  # the server took it as the run died
        "cancelled",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    assert "1 envoi non confirmé, 2 rendus ou annulés" in out.getvalue().replace("\u00a0", " ")
    assert len(smtp_server.messages) == 2


def test_the_read_before_each_message_names_the_models_tables():
    from mutualis.consent.models import Campaign
    from mutualis.privacy.models import Restriction

    assert f"FROM {Restriction._meta.db_table} r" in sending.BEFORE_MESSAGE_SQL
    assert f"FROM {Campaign._meta.db_table} c" in sending.BEFORE_MESSAGE_SQL
