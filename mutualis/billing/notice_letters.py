"""Pre-notifications by post, for the members the daily run could not e-mail.

The daily run (:func:`mutualis.billing.prenotify.notify`) e-mails each member the notices it
makes. A member without an e-mail address, or whose e-mail the mail server refused, only
finds them in the member space, which a member may never open; the SEPA rulebook asks the
creditor to tell the debtor. So those notices are printed and posted: the cotisations service
prints the pending ones from the back office, in one *print run* (a PDF, one letter per
mandate, with the text of the e-mail), and the run records each notice as posted, with one
audit event per member, in one transaction. A run can be printed
again (a jammed printer) without being posted twice.

A notice waits for a run while:

- its member has no e-mail address (a member who gains one is e-mailed the notices still
  waiting by the next daily run), or the mail server refused its e-mail (it is not e-mailed
  again unless the address is corrected: ``prenotify.address_corrected``);
- it can still be posted in time: its debit at least 14 days ahead, as a notice counts from the
  day it is given (``prenotify.matured``);
- it was neither e-mailed nor posted, and no later notice was made for its mandate and date
  (that one says what the member is to be told);
- its mandate is current and its member's processing is not restricted (GDPR art. 18: no debit
  is presented for them either).

A notice left unposted past its last day leaves the queue, and its date's debit is not
presented; the next daily run announces the premium on the next date, in a new notice that
waits here in turn. A run records its notices as posted on the day it is prepared: the page asks
for them to be posted that day.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from mutualis import audit
from mutualis.billing import calendar, prenotify
from mutualis.billing.models import Mandate, PreNotification, superseded_notice
from mutualis.billing.tags import BillingTag
from mutualis.lib import pdf
from mutualis.privacy import catalogue, restrictions

# Letters in one print run: its PDF is made in a web request (about 100 letters a second:
# 500 in 5 s).
RUN_LETTERS = 500


@dataclass(frozen=True)
class NoticeLetter:
    """What one letter announces: a mandate and the latest notice of each of its dates."""

    mandate: Mandate
    notices: list[PreNotification]  # the latest of each date, in date order

    @property
    def schedule(self) -> bool:
        return any(notice.schedule for notice in self.notices)

    @property
    def person(self):
        return self.mandate.member.person

    @property
    def email_refused_at(self) -> datetime.datetime | None:
        """When the mail server last refused one of its notices' e-mail (else the member has
        no e-mail address)."""
        return max((n.email_refused_at for n in self.notices if n.email_refused_at), default=None)

    @property
    def addressed(self) -> bool:
        return bool(self.person.postal_address.strip())


def pending(today: datetime.date | None = None) -> QuerySet[PreNotification]:
    """Notices waiting for a print run (see the module docstring)."""
    today = today or timezone.localdate()
    notices = PreNotification.objects.filter(
        Q(member__person__email="") | Q(email_refused_at__isnull=False),
        emailed_at__isnull=True,
        posted_at__isnull=True,
        collection_date__gte=today + datetime.timedelta(days=calendar.notice_days()),
        mandate__in=Mandate.objects.current(),
    ).exclude(superseded_notice())
    return restrictions.exclude_restricted(
        notices, purpose=catalogue.CONTRACT, subject_field="member__person"
    )


def letters(notices: Iterable[PreNotification]) -> list[NoticeLetter]:
    """One letter per mandate, by member number, with the latest notice of each date (a run
    posted before a notice made later was left out of the queue may hold two of a date)."""
    by_mandate: dict = defaultdict(list)
    for notice in notices:
        by_mandate[notice.mandate_id].append(notice)
    mandates = Mandate.objects.select_related("member__person").in_bulk(list(by_mandate))
    found = []
    for mandate_id, group in by_mandate.items():
        latest: dict[datetime.date, PreNotification] = {}
        for notice in sorted(group, key=lambda n: (n.created_at, str(n.pk))):
            latest[notice.collection_date] = notice
        kept = sorted(latest.values(), key=lambda n: n.collection_date)
        found.append(NoticeLetter(mandates[mandate_id], kept))
    return sorted(found, key=lambda letter: letter.mandate.member.number)


def print_run(
    *, made_until: datetime.datetime, actor, limit: int | None = None
) -> tuple[uuid.UUID, list[NoticeLetter]]:
    """Record as posted, in a new print run, the letters waiting whose notices were made up to
    ``made_until`` (what the page showed: a notice made since waits for the next run) and
    whose member has a postal address; at most ``limit`` letters (``RUN_LETTERS``), by member
    number. Returns the run and its letters (none when nothing was left)."""
    limit = RUN_LETTERS if limit is None else limit
    run = uuid.uuid4()
    with transaction.atomic():
        now = timezone.now()  # the posting day, and the day the queue is read for
        waiting = pending(timezone.localdate(now)).filter(created_at__lte=made_until)
        waiting = waiting.select_for_update(of=("self",))
        found = [letter for letter in letters(waiting) if letter.addressed][:limit]
        posted = [n.pk for letter in found for n in letter.notices]
        PreNotification.objects.filter(pk__in=posted).update(posted_at=now, print_run=run)
        for letter in found:
            audit.record(
                BillingTag.PRENOTIFY_POST,
                actor=actor,
                subject=letter.person.pk,
                target=letter.mandate,
                details={"notices": len(letter.notices), "schedule": letter.schedule},
            )
    return run, found


@dataclass(frozen=True)
class Run:
    id: uuid.UUID
    posted_at: datetime.datetime
    letters: int


def recent_runs(limit: int = 20) -> list[Run]:
    """The latest print runs, newest first."""
    rows = (
        PreNotification.objects.filter(print_run__isnull=False)
        .values("print_run")
        .annotate(posted_at=Max("posted_at"), letters=Count("mandate", distinct=True))
        .order_by("-posted_at")[:limit]
    )
    return [Run(row["print_run"], row["posted_at"], row["letters"]) for row in rows]


def run_letters(run: uuid.UUID) -> list[NoticeLetter]:
    """The letters of a print run, to print them again."""
    return letters(PreNotification.objects.filter(print_run=run))


def as_letter(letter: NoticeLetter, *, day: datetime.date) -> pdf.Letter:
    person = letter.person
    organisation = settings.MUTUALIS_ORGANISATION
    return pdf.Letter(
        sender=f"{organisation['name']}\nService cotisations\n{organisation['address']}",
        address=[
            f"{person.get_civility_display()} {person.first_names} {person.last_name}",
            *person.postal_address.split("\n"),
        ],
        date_line=f"Le {date_format(day, 'j F Y')}",
        subject=prenotify.subject(schedule=letter.schedule),
        body=prenotify.text(letter.mandate, letter.notices, schedule=letter.schedule),
        footer=f"Adhérent n° {letter.mandate.member.number}.",
    )


def render_pdf(found: list[NoticeLetter], *, day: datetime.date) -> bytes:
    return pdf.render(
        [as_letter(letter, day=day) for letter in found],
        title="Avis de prélèvement",
        author=settings.MUTUALIS_ORGANISATION["name"],
    )
