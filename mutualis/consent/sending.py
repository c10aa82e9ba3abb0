"""Sending a campaign by e-mail: throttled, resumable, retried, never twice to anyone.

The send log (:class:`~mutualis.consent.models.Delivery`) is the work list. A run:

1. recovers the rows an earlier run claimed and never settled, once their claim is older than
   ``MUTUALIS_CAMPAIGN_CLAIM_MINUTES`` (that run died: see below);
2. claims a batch of due rows (``pending``, retry time reached) in one committed transaction —
   ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several hosts may run at once — after
   checking each person again: a consent withdrawn, an objection, a restriction, a death or an
   erasure since the audience was frozen turns the row to *skipped*, and no message leaves;
3. sends the batch over one SMTP connection, at most ``MUTUALIS_CAMPAIGN_RATE`` messages per
   second. Before each message it reads the campaign's status (one indexed read): once staff
   paused or cancelled the campaign, the message in flight was the last, and the rest of the
   batch goes back to *pending* (paused) or to *cancelled*. Then the restriction guard (GDPR
   art. 18) stands before the message (a restriction started since the claim skips it), and
   each row is settled as soon as the server has answered, with the audit event of the use
   (``consent:campaign:deliver`` or ``consent:service_campaign:deliver``, naming the person,
   read by ``privacy_check`` T9) in the same transaction: *sent*; *failed* for a permanent
   refusal (5xx) or after ``MUTUALIS_CAMPAIGN_MAX_ATTEMPTS``; back to *pending* with a retry
   time (doubling from ``MUTUALIS_CAMPAIGN_RETRY_SECONDS``) for a temporary one (4xx, a
   connection that failed before the message left);
4. repeats until nothing is due, then closes the campaign once no row is left to send.

A paused or cancelled campaign is not sent, but the claims a dead run left on it are recovered
all the same (:func:`recover_abandoned`, run by the periodic job before sending): the message in
flight is *uncertain*, the others go back to *pending* (paused) or become *cancelled*.

**Never twice.** A row is claimed, durably, before its message leaves; the messages of a batch
leave one at a time in the order of their rows, and each row is settled, durably, as soon as the
server has answered. So when a run dies (killed, out of memory, host restarted), its unsettled
rows are the message in flight, which may or may not have left, followed by messages that never
started. The next run marks the first one *uncertain* and gives the others back to be sent. An
uncertain row is never sent again: the person may have the message, or may not. The same holds
when the connection breaks while the server is reading a message (:mod:`mutualis.consent.smtp`).
Every message carries a Message-ID made of its row's id, so the outgoing mail server's log can
tell, for an uncertain row, whether it left. This trades a rare missed message for a guarantee
that nobody gets the same one twice.

On PostgreSQL the run's settlements commit without waiting for the disk (``synchronous_commit``
off for its connection; its claims commit synchronously all the same). That costs nothing when
the run dies — the server still has every commit — and if the database server itself restarted
since a dead claim was made (``pg_postmaster_start_time()``), its last settlements may be lost:
every unsettled row of that claim is then uncertain, none is given back. On SQLite
(development), a settled row survives the death of the process but, in WAL mode with
``synchronous=NORMAL``, not a power cut: use PostgreSQL in production.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mutualis import audit
from mutualis.consent import campaigns, messages, services
from mutualis.consent.messages import Links, Recipient
from mutualis.consent.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mutualis.consent.models.campaigns import KIND_TOPIC
from mutualis.consent.smtp import DATA, campaign_connection, phase_of
from mutualis.consent.tags import ConsentTag
from mutualis.privacy import restrictions
from mutualis.privacy.restrictions import ALL_PURPOSES

logger = logging.getLogger(__name__)

# Short codes of the send log for what is not an SMTP reply code.
INELIGIBLE = "ineligible"
RESTRICTED = "restricted"
NO_REPLY = "no_reply"
INTERRUPTED = "interrupted"
CONNECTION = "connection"
INTERNAL = "internal"
# The order the messages of a batch leave in, which recovery relies on.
SENDING_ORDER = ("queued_at", "id")


class Throttle:
    """At most ``rate`` calls of :meth:`wait` per second (0: no limit)."""

    def __init__(self, rate: float, *, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    batches: int = 0
    stopped: str = ""  # why the run stopped before the end, if it did

    def __getitem__(self, status: str) -> int:
        return self.counts[status]


@dataclass(frozen=True)
class Outcome:
    status: str
    error: str = ""
    reconnect: bool = False


def _settings() -> dict:
    return {
        "rate": float(settings.MUTUALIS_CAMPAIGN_RATE),
        "batch": int(settings.MUTUALIS_CAMPAIGN_BATCH),
        "attempts": int(settings.MUTUALIS_CAMPAIGN_MAX_ATTEMPTS),
        "retry": int(settings.MUTUALIS_CAMPAIGN_RETRY_SECONDS),
        "lease": int(settings.MUTUALIS_CAMPAIGN_CLAIM_MINUTES),
    }


# --- Steps ----------------------------------------------------------------------------------
def recover_stale_claims(campaign: Campaign, *, lease_minutes: int) -> tuple[int, int]:
    """Settle the rows of runs that died (see the module docstring): in each dead claim, the
    first unsettled row in sending order was the message in flight, *uncertain*; the rows after
    it never started and go back to *pending* — or become *cancelled* when the campaign was
    cancelled meanwhile. Returns ``(uncertain, released)``."""
    before = timezone.now() - timezone.timedelta(minutes=lease_minutes)
    restarted = _database_started_at()
    with transaction.atomic():
        cancelled = (
            Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
            == CampaignStatus.CANCELLED
        )
        stale = (
            campaign.deliveries.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=before)
            .select_for_update()
            .order_by("claim", *SENDING_ORDER)
        )
        seen: set[str] = set()
        in_flight, never_started = [], []
        for pk, claim, claimed_at in stale.values_list("pk", "claim", "claimed_at"):
            lost = restarted is not None and restarted > claimed_at  # settlements may be lost
            (never_started if claim in seen and not lost else in_flight).append(pk)
            seen.add(claim)
        uncertain = Delivery.objects.filter(pk__in=in_flight).update(
            status=DeliveryStatus.UNCERTAIN, error=INTERRUPTED
        )
        released = Delivery.objects.filter(pk__in=never_started).update(
            status=DeliveryStatus.CANCELLED if cancelled else DeliveryStatus.PENDING,
            claim="",
            claimed_at=None,
        )
        if uncertain or released:
            audit.record(
                ConsentTag.CAMPAIGN_RECOVER,
                target=campaign,
                details={"uncertain": uncertain, "released": released},
            )
    return uncertain, released


def _database_started_at():
    """When the PostgreSQL server last started (``None`` elsewhere)."""
    if db_connection.vendor != "postgresql":
        return None
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        return cursor.fetchone()[0]


def _settle_without_waiting_for_the_disk(enabled: bool) -> None:
    """On PostgreSQL: this connection's commits stop (or start again) waiting for the WAL flush;
    the claims override it (see the module docstring)."""
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit TO {'OFF' if enabled else 'DEFAULT'}")


def eligible_people(campaign: Campaign, person_ids: list) -> set:
    """Who, among ``person_ids``, may still be sent ``campaign`` now."""
    topic = KIND_TOPIC[campaign.kind]
    if topic is not None:
        people = services.marketing_audience(topic=topic, channel=campaign.channel)
    else:
        people = campaigns.audience(campaign)
    return set(people.filter(pk__in=person_ids).values_list("pk", flat=True))


def claim_batch(campaign: Campaign, *, token: str, size: int) -> list[Recipient]:
    """Claim up to ``size`` due rows for this run; the others found ineligible are skipped."""
    now = timezone.now()
    with transaction.atomic():
        if db_connection.vendor == "postgresql":
            with db_connection.cursor() as cursor:  # a claim must be on disk before sending
                cursor.execute("SET LOCAL synchronous_commit TO ON")
        due = (
            campaign.deliveries.filter(status=DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by(*SENDING_ORDER)
            .select_for_update(skip_locked=True)
        )
        rows = list(due.values_list("pk", "person_id")[:size])
        if not rows:
            return []
        eligible = eligible_people(campaign, [person for _, person in rows])
        claimed = [pk for pk, person in rows if person in eligible]
        skipped = [pk for pk, person in rows if person not in eligible]
        if skipped:
            Delivery.objects.filter(pk__in=skipped).update(
                status=DeliveryStatus.SKIPPED, error=INELIGIBLE, claim=""
            )
        Delivery.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.CLAIMED, claim=token, claimed_at=now
        )
        found = Delivery.objects.filter(pk__in=claimed).values_list(
            "pk",
            "person__email",
            "person__first_names",
            "person__last_name",
            "person__civility",
            "consent_event__at",
            "person_id",
        )
        by_pk = {row[0]: Recipient(*row) for row in found}
    return [by_pk[pk] for pk in claimed]


def classify(error: BaseException | None, phase: str) -> Outcome:
    """What an SMTP exchange's end means for its row (``phase``: where the message was)."""
    if error is None:
        return Outcome(DeliveryStatus.SENT)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()), (450, b""))[0]
        return _by_code(code)
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code)
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        if phase == DATA:
            return Outcome(DeliveryStatus.UNCERTAIN, NO_REPLY, reconnect=True)
        return Outcome(DeliveryStatus.PENDING, CONNECTION, reconnect=True)
    return Outcome(DeliveryStatus.FAILED, INTERNAL)


def _by_code(code: int) -> Outcome:
    # A definite answer of the server: it did not take the message, whatever the phase.
    if 400 <= code < 500:
        return Outcome(DeliveryStatus.PENDING, str(code))
    return Outcome(DeliveryStatus.FAILED, str(code))


def settle(
    recipient: Recipient,
    *,
    campaign: Campaign,
    token: str,
    outcome: Outcome,
    attempts: int,
    limits: dict,
) -> str:
    """Write the outcome of one row, with the audit event of the use of the person's data, in
    one transaction; a temporary failure is retried later, until the limit."""
    pk = recipient.delivery_id
    now = timezone.now()
    values: dict = {"error": outcome.error}
    status = outcome.status
    if status == DeliveryStatus.PENDING:
        if attempts + 1 >= limits["attempts"]:
            status = DeliveryStatus.FAILED
        else:
            delay = limits["retry"] * 2**attempts
            values.update(claim="", next_attempt_at=now + timezone.timedelta(seconds=delay))
    values.update(status=status, attempts=attempts + 1)
    if status == DeliveryStatus.SENT:
        values["sent_at"] = now
    with transaction.atomic():
        Delivery.objects.filter(pk=pk, claim=token, status=DeliveryStatus.CLAIMED).update(**values)
        audit.record(
            campaigns.use_of(campaign.kind),
            subject=recipient.person_id,
            target=f"consent.delivery:{pk}",
            details={"campaign": str(campaign.pk), "status": str(status)},
        )
    return status


def skip_restricted(recipient: Recipient, *, campaign: Campaign, token: str) -> bool:
    """The restriction guard before one message (GDPR art. 18): ``True`` when the message may
    leave; otherwise the refusal is on record (the guard audits it) and the row is *skipped*."""
    try:
        restrictions.ensure_allowed(
            recipient.person_id,
            purpose=campaigns.purpose_of(campaign.kind),
            use=campaigns.use_of(campaign.kind),
        )
    except restrictions.ProcessingRestricted:
        Delivery.objects.filter(
            pk=recipient.delivery_id, claim=token, status=DeliveryStatus.CLAIMED
        ).update(status=DeliveryStatus.SKIPPED, error=RESTRICTED, claim="")
        return False
    return True


def unclaim(pks: list, *, token: str, cancelled: bool) -> int:
    """Give back claimed rows whose messages never started, the campaign being paused (back to
    *pending*, sent on resumption) or cancelled (*cancelled*)."""
    rows = Delivery.objects.filter(pk__in=pks, claim=token, status=DeliveryStatus.CLAIMED)
    if cancelled:
        return rows.update(status=DeliveryStatus.CANCELLED, claim="")
    return rows.update(status=DeliveryStatus.PENDING, claim="", claimed_at=None)


def status_now(campaign: Campaign) -> str | None:
    """The campaign's status as staff left it, read again (one indexed read)."""
    return Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()


# The tables are the models' (a test compares them): privacy.Restriction, consent.Campaign.
BEFORE_MESSAGE_SQL = (
    "SELECT c.status, EXISTS (SELECT 1 FROM privacy_restriction r "
    "WHERE r.subject_id = %s AND r.lifted_at IS NULL AND r.purpose IN (%s, %s)) "
    "FROM consent_campaign c WHERE c.id = %s"
)


def before_message(campaign: Campaign, recipient: Recipient) -> tuple[str | None, bool]:
    """What the run reads before each message, in one indexed query: the campaign's status as
    staff left it, and whether a restriction covering the campaign's purpose is now in force for
    the recipient (the guard then decides, :func:`skip_restricted`). Plain SQL: it runs once per
    message, and the ORM would cost more than the query."""
    campaign_id = Campaign._meta.pk.get_db_prep_value(campaign.pk, db_connection)
    purpose = campaigns.purpose_of(campaign.kind).code
    with db_connection.cursor() as cursor:
        params = [str(recipient.person_id), purpose, ALL_PURPOSES, campaign_id]
        cursor.execute(BEFORE_MESSAGE_SQL, params)
        found = cursor.fetchone()
    return (found[0], bool(found[1])) if found else (None, False)


def release(pks: list, *, token: str, retry_seconds: int) -> int:
    """Give back claimed rows whose messages never started (the server could not be reached)."""
    later = timezone.now() + timezone.timedelta(seconds=retry_seconds)
    return Delivery.objects.filter(pk__in=pks, claim=token, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING, claim="", next_attempt_at=later, error=CONNECTION
    )


# --- The run --------------------------------------------------------------------------------
def send_campaign(
    *,
    campaign: Campaign,
    links: Links,
    connection=None,
    batch_size: int | None = None,
    rate: float | None = None,
    progress: Callable[[int], None] = lambda n: None,
    throttle: Throttle | None = None,
) -> Report:
    """Send what is due of ``campaign`` (see the module docstring); return what was done."""
    limits = _settings()
    size = batch_size or limits["batch"]
    throttle = throttle or Throttle(limits["rate"] if rate is None else rate)
    token = uuid.uuid4().hex
    report = Report()
    if campaign.channel != "email":
        report.stopped = "not_email"
        return report
    uncertain, _released = recover_stale_claims(campaign, lease_minutes=limits["lease"])
    report.counts[DeliveryStatus.UNCERTAIN] += uncertain
    connection = connection or campaign_connection()
    opened = False
    _settle_without_waiting_for_the_disk(True)
    try:
        while True:
            campaign.refresh_from_db(fields=["status"])
            if campaign.status != CampaignStatus.SENDING:
                report.stopped = campaign.status
                break
            batch = claim_batch(campaign, token=token, size=size)
            if not batch:
                break
            report.batches += 1
            if not opened:
                try:
                    connection.open()
                    opened = True
                except (OSError, smtplib.SMTPException):
                    logger.warning("campaign %s: mail server unreachable", campaign.pk)
                    release([r.delivery_id for r in batch], token=token, retry_seconds=60)
                    report.stopped = CONNECTION
                    break
            done = _send_batch(campaign, batch, connection, links, token, throttle, limits, report)
            progress(done)
            if report.stopped:
                break
    finally:
        _settle_without_waiting_for_the_disk(False)
        if opened:
            connection.close()
    campaigns.finish_if_done(campaign)
    return report


def _send_batch(campaign, batch, connection, links, token, throttle, limits, report) -> int:
    tries = dict(
        Delivery.objects.filter(pk__in=[r.delivery_id for r in batch]).values_list("pk", "attempts")
    )
    outcomes: Counter = Counter()
    for index, recipient in enumerate(batch):
        throttle.wait()
        status, restricted = before_message(campaign, recipient)
        if status != CampaignStatus.SENDING:  # paused or cancelled: the last message has left
            rest = [r.delivery_id for r in batch[index:]]
            unclaim(rest, token=token, cancelled=status == CampaignStatus.CANCELLED)
            report.stopped = status or "gone"
            break
        if restricted and not skip_restricted(recipient, campaign=campaign, token=token):
            outcomes[DeliveryStatus.SKIPPED] += 1
            continue
        error = None
        try:
            message = messages.build(campaign, recipient, links)
            connection.send_messages([message])
        except Exception as exc:  # every failure is settled on its row
            error = exc
        outcome = classify(error, phase_of(connection))
        if outcome.status == DeliveryStatus.FAILED and outcome.error == INTERNAL:
            logger.exception("campaign %s: message could not be built or sent", campaign.pk)
        status = settle(
            recipient,
            campaign=campaign,
            token=token,
            outcome=outcome,
            attempts=tries[recipient.delivery_id],
            limits=limits,
        )
        outcomes[status] += 1
        if outcome.reconnect and not _reconnect(connection):
            rest = [r.delivery_id for r in batch[index + 1 :]]
            release(rest, token=token, retry_seconds=limits["retry"])
            report.stopped = CONNECTION
            break
    with transaction.atomic():
        audit.record(
            ConsentTag.CAMPAIGN_BATCH,
            target=campaign,
            details={"batch": report.batches, **{str(k): v for k, v in outcomes.items()}},
        )
    report.counts.update(outcomes)
    return sum(outcomes.values())


def _reconnect(connection) -> bool:
    with contextlib.suppress(Exception):  # a broken connection may fail to close
        connection.close()
    try:
        connection.open()
    except (OSError, smtplib.SMTPException):
        return False
    return True


def recover_abandoned(*, lease_minutes: int | None = None) -> tuple[int, int]:
    """Recover the dead claims of the campaigns no run sends any more (paused or cancelled):
    without it, a row claimed by a run that died after staff cancelled would stay *claimed*.
    Returns ``(uncertain, released)`` over all of them."""
    lease = _settings()["lease"] if lease_minutes is None else lease_minutes
    before = timezone.now() - timezone.timedelta(minutes=lease)
    stale = Campaign.objects.filter(
        status__in=[CampaignStatus.PAUSED, CampaignStatus.CANCELLED],
        deliveries__status=DeliveryStatus.CLAIMED,
        deliveries__claimed_at__lt=before,
    ).distinct()
    uncertain = released = 0
    for campaign in stale:
        found = recover_stale_claims(campaign, lease_minutes=lease)
        uncertain += found[0]
        released += found[1]
    return uncertain, released


def due_campaigns() -> list[Campaign]:
    """The campaigns a periodic run should work on (e-mail, sending, something left)."""
    return list(
        Campaign.objects.filter(status=CampaignStatus.SENDING, channel="email").order_by(
            "frozen_at"
        )
    )
