"""Pre-notification of debits (SEPA SDD Core rulebook): the debtor learns the amount and date of
each debit at least 14 days before it (``MUTUALIS_SEPA_PRENOTIFICATION_DAYS``).

A notice is a :class:`~mutualis.billing.models.PreNotification` row: (mandate, collection date,
amount). It is *given* when it leaves for the member: e-mailed at once by the run that makes it,
or, for a member without an e-mail address or whose e-mail the mail server refused, posted
in a print run (:mod:`mutualis.billing.notice_letters`). The amount a mandate may be
debited on a date is that of its *latest notice given at least 14 days before*
(:func:`announced`); the batch of that date debits exactly it, or nothing. A notice made in
time but posted too late does not count: that date's premium waits for the next date, which the
next run announces.
The notices of one run that concern one member go out as one e-mail (the yearly schedule, or the
dates whose amount changed) and stay readable in the member space.

:func:`plan` is what the schedule says each coming collection date should take: every premium
not yet collected, due on or before the date, on the first date it can still be announced for.
:func:`notify` compares it with what was announced and announces every difference (a beneficiary
added, a new year's rates, a debit that could not be presented) — a date whose planned amount
fell to nothing is announced as such (0 €). It is idempotent: a second run announces nothing.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.billing import calendar
from mutualis.billing.models import Instalment, Mandate, PreNotification, superseded_notice
from mutualis.billing.tags import BillingTag
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions

log = logging.getLogger(__name__)
ZERO = Decimal("0.00")
CHUNK = 2000


# A notice as the rule reads it: (collection date, amount, made at, given at), "given at" being
# None while it waits for the post.
Notice = tuple[datetime.date, Decimal, datetime.datetime, datetime.datetime | None]
# The letters of a run: (mandate, its notices, whether they are the yearly schedule).
Letters = list[tuple[Mandate, list[PreNotification], bool]]


def notice_rows(notices: QuerySet[PreNotification], *leading: str):
    """``notices`` as :data:`Notice` tuples, after the ``leading`` fields."""
    return notices.annotate(given=Coalesce("emailed_at", "posted_at")).values_list(
        *leading, "collection_date", "amount", "created_at", "given"
    )


@dataclass(frozen=True)
class Due:
    due_date: datetime.date
    amount: Decimal


@dataclass
class Sending:
    """The letters of a run refused, gathered over its chunks (:func:`_send`) and sent to the
    post once after the last (:func:`_settle`)."""

    unwritable: Letters = field(default_factory=list)
    refused: Letters = field(default_factory=list)  # by the server
    answered: int = 0  # letters the server answered, taken or refused


@dataclass
class Outcome:
    members: int = 0
    notices: int = 0
    emails: int = 0
    unsent: int = 0  # letters not sent for now: e-mailed again by the next run (see _settle)
    to_post: int = 0  # letters the mail server refused: their notices wait for the post
    restricted: int = 0
    notified: list = field(default_factory=list)
    sending: Sending = field(default_factory=Sending)


def matured(notices: Iterable[Notice], day: datetime.date) -> Decimal | None:
    """The amount announced for ``day`` in time: of the notices given on or before the last
    notice day, the latest made."""
    limit = calendar.latest_notice_day(day)
    best: tuple[datetime.datetime, Decimal] | None = None
    for date, amount, made, given in notices:
        in_time = given is not None and timezone.localdate(given) <= limit
        if date == day and in_time and (best is None or made > best[0]):
            best = (made, amount)
    return None if best is None else best[1]


def latest(notices: Iterable[Notice], day: datetime.date) -> Decimal | None:
    """The amount of the latest notice made for ``day``, given in time or not (what the
    member was, or is about to be, told)."""
    best: tuple[datetime.datetime, Decimal] | None = None
    for date, amount, made, _given in notices:
        if date == day and (best is None or made > best[0]):
            best = (made, amount)
    return None if best is None else best[1]


def announced(mandate: Mandate, day: datetime.date) -> Decimal | None:
    """The amount ``mandate`` may be debited on ``day``: its latest notice given in time."""
    return matured(
        notice_rows(PreNotification.objects.filter(mandate=mandate, collection_date=day)), day
    )


def plan(
    dues: list[Due],
    notices: list[Notice],
    *,
    today: datetime.date,
    horizon: datetime.date,
) -> dict[datetime.date, Decimal]:
    """What each collection date from tomorrow to ``horizon`` should take (dates it is too late
    to announce for keep what was announced in time, when it matches what is due by then)."""
    first_open = today + datetime.timedelta(days=calendar.notice_days())
    remaining = sorted(dues, key=lambda d: d.due_date)
    planned: dict[datetime.date, Decimal] = {}
    for day in calendar.collection_dates(today + datetime.timedelta(days=1), horizon):
        taken = [d for d in remaining if d.due_date <= day]
        total = sum((d.amount for d in taken), ZERO)
        if day < first_open:
            if total > 0 and matured(notices, day) == total:
                remaining = [d for d in remaining if d.due_date > day]
            continue
        planned[day] = total
        remaining = [d for d in remaining if d.due_date > day]
    return planned


def notify(
    *,
    today: datetime.date,
    actor=None,
    progress: Callable[[int], None] | None = None,
    now: datetime.datetime | None = None,
) -> Outcome:
    """Announce every planned debit whose amount differs from what was announced; e-mail each
    member concerned once. Restricted people (GDPR art. 18) are left out: no debit is presented
    for them either. ``now`` dates the notices (the demo replays a past year)."""
    horizon = calendar.schedule_horizon(today)
    outcome = Outcome()
    mandates = restrictions.exclude_restricted(
        Mandate.objects.current(), purpose=catalogue.CONTRACT, subject_field="member__person"
    )
    outcome.restricted = Mandate.objects.current().count() - mandates.count()
    last = None
    while True:
        chunk = mandates.order_by("pk")
        if last is not None:
            chunk = chunk.filter(pk__gt=last)
        rows = list(
            chunk.select_related("member__person").only(
                "pk",
                "reference",
                "creditor_identifier",
                "member__id",
                "member__person__id",
                "member__person__email",
                "member__person__first_names",
                "member__person__last_name",
                "member__person__civility",
            )[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1].pk
        _notify_chunk(rows, today=today, horizon=horizon, actor=actor, outcome=outcome, now=now)
        if progress:
            progress(len(rows))
    # After the last chunk's e-mails (callbacks run in the order they were registered).
    transaction.on_commit(lambda: _settle(outcome))
    return outcome


def _notify_chunk(
    mandates: list[Mandate],
    *,
    today: datetime.date,
    horizon: datetime.date,
    actor,
    outcome: Outcome,
    now: datetime.datetime | None = None,
) -> None:
    by_member: dict = defaultdict(list)
    for member_id, due_date, amount in Instalment.objects.filter(
        member_id__in=[m.member_id for m in mandates],
        debit__isnull=True,
        amount__gt=0,
        due_date__lte=horizon,
    ).values_list("member_id", "due_date", "amount"):
        by_member[member_id].append(Due(due_date, amount))
    by_mandate: dict = defaultdict(list)
    for mandate_id, *notice in notice_rows(
        PreNotification.objects.filter(mandate__in=mandates, collection_date__gt=today),
        "mandate_id",
    ):
        by_mandate[mandate_id].append(tuple(notice))

    # The latest notice of each date, when it was never given nor refused by the mail server
    # (that one waits for the post).
    waiting: dict = defaultdict(dict)
    for notice in (
        PreNotification.objects.filter(
            mandate__in=mandates,
            collection_date__gt=today,
            emailed_at__isnull=True,
            posted_at__isnull=True,
            email_refused_at__isnull=True,
        )
        .exclude(superseded_notice())
        .only("pk", "mandate_id", "collection_date", "amount", "schedule", "created_at")
    ):
        waiting[notice.mandate_id][notice.collection_date] = notice

    now = now or timezone.now()
    # A notice counts from the day it is given: stamped after midnight (a run that went past
    # it, or one run late for an earlier day), it announces the dates still open from that day.
    today = max(today, timezone.localdate(now))
    new: list[PreNotification] = []
    letters: Letters = []
    for mandate in mandates:
        notices = by_mandate[mandate.pk]
        planned = plan(by_member[mandate.member_id], notices, today=today, horizon=horizon)
        changed = [
            PreNotification(
                member_id=mandate.member_id,
                mandate=mandate,
                collection_date=day,
                amount=amount,
                created_at=now,
                year_end=datetime.date(day.year, 12, 31),
            )
            for day, amount in planned.items()
            if (latest(notices, day) or ZERO) != amount
        ]
        # A member with an e-mail address is e-mailed, again, the latest notices of the dates
        # still open that were never given: waiting for the post when the member had no
        # address, or not sent for now by the mail server (the same rows: nothing new is
        # announced).
        again = []
        if mandate.member.person.email:
            again = [
                waiting[mandate.pk][day]
                for day, amount in planned.items()
                if day in waiting[mandate.pk] and waiting[mandate.pk][day].amount == amount
            ]
        if not changed and not again:
            continue
        # A notice of several dates is the schedule (échéancier) of the coming months.
        schedule = len(changed) + len(again) > 1
        for notice in changed:
            notice.schedule = schedule
        new.extend(changed)
        letters.append((mandate, changed + again, schedule))
    if not letters:
        return
    with transaction.atomic():
        PreNotification.objects.bulk_create(new, batch_size=1000)
        emailed = [(m, n, s) for m, n, s in letters if m.member.person.email]
        ids = [n.pk for _, notices, _ in emailed for n in notices]
        PreNotification.objects.filter(pk__in=ids).update(emailed_at=now)
        audit.record(
            BillingTag.PRENOTIFY,
            actor=actor,
            details={
                "members": len(letters),
                "notices": len(new),
                "emails": len(emailed),
                # never-given notices e-mailed again in those e-mails
                "again": sum(len(n) for _, n, _ in letters) - len(new),
            },
        )
        transaction.on_commit(lambda: _send(emailed, outcome))
    outcome.members += len(letters)
    outcome.notices += len(new)
    outcome.emails += len(emailed)
    outcome.notified.extend(m.member_id for m, _, _ in letters)


def _send(letters: Letters, outcome: Outcome) -> None:
    """E-mail each letter, once the chunk's transaction has committed, over one connection.

    The notices were recorded as e-mailed in that transaction. Those of a letter that did not
    leave are recorded as not e-mailed at once, in this chunk (:func:`_not_emailed`), so that
    they never count as given; the next daily run would e-mail them again. A letter did not
    leave when:

    - the server refused its recipient or its message (whatever the reply: an unknown mailbox
      is answered 5.1.1 by some servers, 5.5.0 or 5.4.1 by others), or its address cannot be
      written: *refused*, gathered in ``outcome.sending`` for :func:`_settle` to send them to
      the post after the run's last chunk;
    - the server is gone or closing (421), or a setting is wrong (the sender's address): this
      letter and every one not sent yet are *held*, ``outcome.unsent``.

    Nothing is raised: the other letters, the run's other chunks and steps go on.
    """
    if not letters:
        return
    organisation = settings.MUTUALIS_ORGANISATION
    sending = outcome.sending
    unwritable: Letters = []
    refused: Letters = []
    held: Letters = []
    index = 0  # the letter being sent
    connection = None
    try:
        connection = get_connection()
        connection.open()  # one connection for the chunk's messages (closed below)
        for index, (mandate, notices, schedule) in enumerate(letters):
            letter = letters[index]
            address = mandate.member.person.email
            if not _writable(address):  # a legacy import's, say
                unwritable.append(letter)
                continue
            message = EmailMessage(
                subject=f"{subject(schedule=schedule)} — {organisation['short_name']}",
                body=text(mandate, notices, schedule=schedule) + "\n",
                to=[address],
                connection=connection,
            )
            # The connection goes on after a refusal. Its text may hold the address: not logged.
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused as error:
                if any(code == 421 for code, _ in error.recipients.values()):
                    held.append(letter)  # closing: the next letters fail and are held too
                    continue
                refused.append(letter)
            except smtplib.SMTPDataError as error:
                if error.smtp_code == 421:
                    held.append(letter)
                    continue
                refused.append(letter)
            sending.answered += 1
    except Exception as error:  # the server gone, a setting wrong…: nothing more leaves
        held.extend(letters[index:])
        log.error("pre-notification e-mails stopped: %s", type(error).__name__)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception as error:  # the messages are sent or not already
                log.error("pre-notification e-mails: closing failed: %s", type(error).__name__)
    if refused or unwritable or held:
        _not_emailed(refused + unwritable + held)
        sending.refused += refused
        sending.unwritable += unwritable
        outcome.unsent += len(held)


def _settle(outcome: Outcome) -> None:
    """After the run's last chunk: send to the post the notices of the letters refused
    (``email_refused_at``, ``billing.notice_letters``), which are then not e-mailed again
    unless the address is corrected (:func:`address_corrected`); the job goes on. When most
    of the letters the server answered in the run were refused (``BREAKER_REFUSALS``), that
    is the server's fault (a relay that refuses us refuses every address): they stay held,
    e-mailed again by the next daily run, and the job fails. A run stopped before this step
    leaves them held, which is safe."""
    sending, outcome.sending = outcome.sending, Sending()
    refused = sending.refused
    if len(refused) > BREAKER_REFUSALS and 2 * len(refused) > sending.answered:
        log.error("pre-notifications: %d of %d refused, held", len(refused), sending.answered)
        outcome.unsent += len(refused)
        refused = []
    refused = refused + sending.unwritable
    if refused:
        outcome.to_post += _to_post(refused)


# More refusals than this in one run, and more than half of the letters the server answered,
# are the server's fault. Fewer are taken as the addresses': a notice held for a refusal that
# was its address's would be offered, and refused, again each day without ever being posted.
BREAKER_REFUSALS = 10


def _writable(address: str) -> bool:
    """Whether ``address`` can be written in a message's header (a line break cannot)."""
    if "\n" in address or "\r" in address:
        return False
    try:
        sanitize_address(address, settings.DEFAULT_CHARSET)
    except ValueError:
        return False
    return True


def _not_emailed(letters: Letters) -> None:
    """Record the notices of ``letters`` as not e-mailed, one audit event per member (whose
    address the service is to check, or the mail server)."""
    with transaction.atomic():
        for mandate, notices, _ in letters:
            ids = [notice.pk for notice in notices]
            PreNotification.objects.filter(pk__in=ids).update(emailed_at=None)
            audit.record(
                BillingTag.PRENOTIFY_UNSENT,
                subject=mandate.member.person_id,
                target=mandate,
                details={"notices": len(ids)},
            )


def _to_post(letters: Letters) -> int:
    """Send to the post the notices of ``letters``, refused (``email_refused_at``), one audit
    event per member; returns how many letters. A member whose address was corrected since the
    letter was written is not held to the former's refusal: the next run e-mails the new one.
    Notices given since (posted, or e-mailed by another run) are left as they are."""
    now = timezone.now()
    posted = 0
    with transaction.atomic():
        # Locked as a correction locks them (members.rectify_contact_details): one waits for
        # the other, and a correction made meanwhile is seen here.
        current = dict(
            Person.objects.select_for_update()
            .filter(pk__in=[mandate.member.person_id for mandate, _, _ in letters])
            .order_by("pk")
            .values_list("pk", "email")
        )
        for mandate, notices, _ in letters:
            person = mandate.member.person
            if current.get(person.pk) != person.email:
                continue
            marked = PreNotification.objects.filter(
                pk__in=[notice.pk for notice in notices],
                emailed_at__isnull=True,
                posted_at__isnull=True,
            ).update(email_refused_at=now)
            if marked:
                posted += 1
                audit.record(
                    BillingTag.PRENOTIFY_REFUSED,
                    subject=person.pk,
                    target=mandate,
                    details={"notices": marked},
                )
    return posted


def address_corrected(sender, *, person, fields, **kwargs) -> None:
    """``members.signals.contact_details_changed``, in the correction's transaction: once the
    e-mail address is corrected, the notices refused at the former one, not given yet and not
    due to be posted today at the latest, leave the postal queue; the next daily run e-mails
    them. Audited with the correction's person."""
    if "email" not in fields or not person.email:
        return
    # The next daily run is tomorrow's at the earliest: a notice whose last day is today stays
    # with the post.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    taken_back = PreNotification.objects.filter(
        member__person=person,
        email_refused_at__isnull=False,
        emailed_at__isnull=True,
        posted_at__isnull=True,
        collection_date__gte=tomorrow + datetime.timedelta(days=calendar.notice_days()),
    ).update(email_refused_at=None)
    if taken_back:
        audit.record(
            BillingTag.PRENOTIFY_READDRESSED,
            subject=person.pk,
            target=person,
            details={"notices": taken_back},
        )


def subject(*, schedule: bool) -> str:
    return "Votre échéancier de prélèvements" if schedule else "Votre prochain prélèvement"


def text(mandate: Mandate, notices: list[PreNotification], *, schedule: bool) -> str:
    """The notice's text, by e-mail or by post (``mutualis.billing.notice_letters``)."""
    return render_to_string(
        "billing/email/prenotification.txt",
        {
            "person": mandate.member.person,
            "mandate": mandate,
            "notices": sorted(notices, key=lambda n: n.collection_date),
            "schedule": schedule,
            "organisation": settings.MUTUALIS_ORGANISATION,
            "creditor_identifier": mandate.creditor_identifier,
            "site_url": settings.MUTUALIS_SITE_URL.rstrip("/"),
        },
    ).strip()
