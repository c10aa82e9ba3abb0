"""Pre-notifications by post, for the members the daily run could not e-mail.

The daily run (:func:`mutualis.billing.prenotify.notify`) e-mails each member the notices it
makes. A member without an e-mail address only finds them in the member space, which a member
may never open; the SEPA rulebook asks the creditor to tell the debtor. So those notices are
printed and posted: the cotisations service prints the pending ones from the back office, in one
*print run* (a PDF, one letter per mandate, with the text of the e-mail), and the run records
each notice as posted, with one audit event per member, in one transaction. A run can be printed
again (a jammed printer) without being posted twice.

A notice waits for a run while it can still be posted in time (its debit at least 14 days
ahead: a notice counts from the day it is posted, ``prenotify.matured``), it was neither
e-mailed nor posted, its mandate is current and its member's processing is not restricted (GDPR
art. 18: no debit is presented for them either). A notice left unposted past its last day
leaves the queue and its debit is not presented; the next daily run announces the premium on the
next date, in a new notice that waits here in turn. A later notice for the same date replaces
an earlier one: a letter shows the latest of each date, and the run marks the earlier ones
posted with it.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from mutualis import audit
from mutualis.billing import calendar, prenotify
from mutualis.billing.models import Mandate, PreNotification
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
    replaced: list[PreNotification]  # earlier notices of the same dates, posted with them

    @property
    def schedule(self) -> bool:
        return any(notice.schedule for notice in self.notices)

    @property
    def person(self):
        return self.mandate.member.person

    @property
    def addressed(self) -> bool:
        return bool(self.person.postal_address.strip())


def pending(today: datetime.date | None = None) -> QuerySet[PreNotification]:
    """Notices waiting for a print run (see the module docstring)."""
    today = today or timezone.localdate()
    notices = PreNotification.objects.filter(
        emailed_at__isnull=True,
        posted_at__isnull=True,
        collection_date__gte=today + datetime.timedelta(days=calendar.notice_days()),
        mandate__in=Mandate.objects.current(),
    )
    return restrictions.exclude_restricted(
        notices, purpose=catalogue.CONTRACT, subject_field="member__person"
    )


def letters(notices: Iterable[PreNotification]) -> list[NoticeLetter]:
    """One letter per mandate, by member number."""
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
        replaced = [n for n in group if latest[n.collection_date] is not n]
        found.append(NoticeLetter(mandates[mandate_id], kept, replaced))
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
        waiting = pending().filter(created_at__lte=made_until).select_for_update()
        found = [letter for letter in letters(waiting) if letter.addressed][:limit]
        now = timezone.now()
        posted = [n.pk for letter in found for n in (*letter.notices, *letter.replaced)]
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
