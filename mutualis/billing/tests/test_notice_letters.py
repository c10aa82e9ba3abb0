"""Notices of coming debits posted to members without an e-mail address: what waits, the print
runs (posted once, audited, printable again), the letters' text in the PDF."""

import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from pypdf import PdfReader

from mutualis.audit.models import Event
from mutualis.billing import calendar, cycle, notice_letters, prenotify
from mutualis.billing.models import Debit, Instalment, Mandate, PreNotification
from mutualis.billing.tags import BillingTag
from mutualis.billing.testing import batch_on, cycle_on, on, subscribed_on
from mutualis.members import services as members
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

START = datetime.date(2026, 12, 1)
TODAY = datetime.date(2026, 12, 2)
JAN = calendar.collection_date(datetime.date(2027, 1, 1))
FEB = calendar.collection_date(datetime.date(2027, 2, 1))


@pytest.fixture
def postal():
    """A member without an e-mail address and one with, their yearly schedules announced."""
    without = _without_email(
        subscribed_on(START, first_names="Paul", email="paul@example.org", seed=2)
    )
    with_email = subscribed_on(START, first_names="Alice", seed=1)
    cycle_on(START)
    return without.member, with_email.member


def _without_email(contract):
    """A member without an e-mail address, as the legacy system's import may leave one."""
    person = contract.member.person
    person.email = ""
    person.save(update_fields=["email"])
    return contract


def _moment(day, hour):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def _run(**kwargs):
    with on(TODAY):
        return notice_letters.print_run(made_until=_moment(TODAY, 23), actor=None, **kwargs)


def test_only_the_notices_nobody_e_mailed_wait_for_the_post(postal):
    without, with_email = postal
    with on(TODAY):
        waiting = list(notice_letters.pending())
    assert waiting and {n.member_id for n in waiting} == {without.pk}
    assert PreNotification.objects.filter(member=with_email, emailed_at__isnull=True).count() == 0
    (letter,) = notice_letters.letters(waiting)
    assert letter.schedule and letter.addressed
    assert [n.collection_date for n in letter.notices] == sorted(n.collection_date for n in waiting)


def test_a_print_run_posts_each_letter_once_and_is_audited(postal):
    without, _ = postal
    run, found = _run()
    assert [letter.mandate.member_id for letter in found] == [without.pk]
    notices = PreNotification.objects.filter(member=without)
    assert set(notices.values_list("print_run", flat=True)) == {run}
    assert notices.filter(posted_at__isnull=True).count() == 0
    (event,) = Event.objects.filter(tag=BillingTag.PRENOTIFY_POST)
    assert event.subject_id == str(without.person_id)
    assert event.details == {"notices": notices.count(), "schedule": True}
    assert _run()[1] == [], "a second run finds nothing left"
    reprinted = notice_letters.run_letters(run)
    assert [letter.mandate.pk for letter in reprinted] == [found[0].mandate.pk]


def test_a_run_leaves_the_notices_made_after_the_page_was_shown(postal):
    with on(TODAY):
        run, found = notice_letters.print_run(made_until=_moment(START, 1), actor=None)
    assert found == [] and not PreNotification.objects.filter(print_run=run).exists()


def test_a_member_without_a_postal_address_waits_and_is_counted(postal):
    without, _ = postal
    person = without.person
    person.address_line1 = person.address_line2 = person.postal_code = person.city = ""
    person.save()
    with on(TODAY):
        (letter,) = notice_letters.letters(notice_letters.pending())
    assert not letter.addressed
    assert _run()[1] == []
    assert PreNotification.objects.filter(member=without, posted_at__isnull=False).count() == 0


def test_a_restricted_member_gets_no_letter(postal):
    without, _ = postal
    with on(TODAY):
        restrictions.start(
            subject=without.person,
            purpose=catalogue.CONTRACT.code,
            ground="restriction",
            reason="x",
        )
        assert not notice_letters.pending().exists()


def test_a_run_is_limited_and_the_rest_waits(postal, monkeypatch):
    third = _without_email(subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3))
    cycle_on(START)
    _, found = _run(limit=1)
    assert len(found) == 1
    with on(TODAY):
        (left,) = notice_letters.letters(notice_letters.pending())
    assert {found[0].mandate.member_id, left.mandate.member_id} == {
        postal[0].pk,
        third.member.pk,
    }


def test_the_letter_says_what_the_e_mail_says(postal):
    without, _ = postal
    _, found = _run()
    pdf = notice_letters.render_pdf(found, day=TODAY)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    person = without.person
    assert f"{person.first_names} {person.last_name}" in text
    assert "12 rue des Lilas" in text
    assert "Votre échéancier de prélèvements" in text
    first = PreNotification.objects.filter(member=without).earliest("collection_date")
    amount = f"{first.amount:.2f}".replace(".", ",")
    assert amount in text
    assert "Identifiant créancier SEPA" in text and without.number in text


# --- A notice counts from the day it is posted ---------------------------------------------------
def test_a_debit_is_presented_once_its_letter_is_posted_in_time(postal, tmp_path):
    without, with_email = postal
    _run()
    batch_on(JAN, tmp_path)
    assert {d.member_id for d in Debit.objects.all()} == {without.pk, with_email.pk}


def test_a_letter_not_posted_lets_no_debit_go_and_its_premium_waits_for_the_next_date(
    postal, tmp_path
):
    without, with_email = postal
    mandate = without.mandates.get()
    assert prenotify.announced(mandate, JAN) is None, "made in time, but never given"
    batch_on(JAN, tmp_path)
    assert {d.member_id for d in Debit.objects.all()} == {with_email.pk}

    # Past 22 December the January letter can no longer count: it leaves the queue, and the
    # next daily run announces January's premium with February's, in a letter that waits.
    late = calendar.latest_notice_day(JAN) + datetime.timedelta(days=1)
    with on(late):
        assert JAN not in {n.collection_date for n in notice_letters.pending()}
    cycle_on(late)
    owed = Instalment.objects.filter(member=without, month__lte=FEB).values_list(
        "amount", flat=True
    )
    feb = PreNotification.objects.filter(mandate=mandate, collection_date=FEB).latest("created_at")
    assert feb.amount == sum(owed) and timezone.localdate(feb.created_at) == late
    with on(late):
        assert feb in notice_letters.pending()


def test_a_letter_posted_after_its_last_day_does_not_count(postal):
    without, _ = postal
    mandate = without.mandates.get()
    last_day = calendar.latest_notice_day(JAN)
    january = PreNotification.objects.filter(mandate=mandate, collection_date=JAN)
    january.update(posted_at=_moment(last_day + datetime.timedelta(days=1), 9))
    assert prenotify.announced(mandate, JAN) is None
    january.update(posted_at=_moment(last_day, 18))
    assert prenotify.announced(mandate, JAN) == january.get().amount


def _owed(member, day):
    """What ``member`` owes up to the collection date ``day``."""
    months = Instalment.objects.filter(member=member, month__lte=day, debit__isnull=True)
    return sum(months.values_list("amount", flat=True))


def _january_changes(member):
    """January's premium of ``member`` changes (a beneficiary added, say) and the daily run of
    3 December announces it."""
    Instalment.objects.filter(member=member, month=datetime.date(2027, 1, 1)).update(
        amount=Decimal("99.99")
    )
    cycle_on(datetime.date(2026, 12, 3))
    return PreNotification.objects.filter(member=member, collection_date=JAN).latest("created_at")


def test_a_later_notice_of_a_date_takes_the_place_of_the_waiting_letter(postal):
    without, _ = postal
    first = PreNotification.objects.get(member=without, collection_date=JAN)
    shown = _moment(TODAY, 23)  # the page was shown before the run of 3 December
    newer = _january_changes(without)
    assert newer.amount == _owed(without, JAN) != first.amount and newer.given_at is None
    with on(datetime.date(2026, 12, 3)):
        january = [n for n in notice_letters.pending() if n.collection_date == JAN]
        assert january == [newer]
        run, found = notice_letters.print_run(made_until=shown, actor=None)
    # Neither January notice is posted from the page shown before: the first one says an amount
    # the member is no longer to be told, the newer one was not on the page.
    (letter,) = found
    assert JAN not in {n.collection_date for n in letter.notices}
    assert not PreNotification.objects.filter(collection_date=JAN, print_run=run).exists()
    first.refresh_from_db()
    assert first.posted_at is None


def test_a_member_who_gains_an_e_mail_address_is_e_mailed_what_waited(
    postal, tmp_path, django_capture_on_commit_callbacks
):
    without, _ = postal
    person = without.person
    person.email = "paul@example.org"
    person.save(update_fields=["email"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cycle_on(datetime.date(2026, 12, 3))
    (message,) = [m for m in mail.outbox if m.to == ["paul@example.org"]]
    assert "Votre échéancier de prélèvements" in message.subject
    january = PreNotification.objects.filter(member=without, collection_date=JAN)
    assert january.latest("created_at").emailed_at is not None
    with on(datetime.date(2026, 12, 3)):
        assert not notice_letters.pending().filter(member=without).exists()
    # Told once: the next run has nothing more to say.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cycle_on(datetime.date(2026, 12, 4))
    assert not [m.body for m in mail.outbox if m.to == ["paul@example.org"]]
    batch_on(JAN, tmp_path)
    assert Debit.objects.filter(member=without).exists()


def test_a_run_past_midnight_does_not_announce_a_date_it_is_too_late_for(postal):
    """The run of 22 December (the last day to announce 5 January) stamps its notices after
    midnight: a change of January's amount is not announced for January, too late to count,
    but with February's debit."""
    _, alice = postal
    Instalment.objects.filter(member=alice, month=datetime.date(2027, 1, 1)).update(
        amount=Decimal("99.99")
    )
    owed = _owed(alice, FEB)
    last_day = calendar.latest_notice_day(JAN)
    with on(last_day + datetime.timedelta(days=1), hour=0):
        cycle.run(today=last_day)
    january = PreNotification.objects.filter(member=alice, collection_date=JAN)
    assert january.count() == 1, "only the schedule's notice, given in time"
    february = PreNotification.objects.filter(member=alice, collection_date=FEB)
    assert february.latest("created_at").amount == owed


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_notices_the_mail_server_did_not_take_for_now_go_with_the_next_run(smtp_server):
    """The mail server closes (421) as Zoé's letter is offered: her notices are recorded as not
    e-mailed, the run goes on, the job fails loudly; the next run e-mails her."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    smtp_server.answer("zoe@example.org", "421 4.3.2 Service en cours d'arrêt")
    unsent = "1 courriel d'avis de prélèvement non envoyé "
    with on(START, hour=2), pytest.raises(CommandError, match=unsent):
        call_command("billing_cycle", stdout=io.StringIO())
    assert smtp_server.messages == []
    refused = PreNotification.objects.filter(member=zoe)
    assert refused.exists() and not refused.filter(emailed_at__isnull=False).exists()
    with on(START):
        assert prenotify.announced(zoe.mandates.get(), JAN) is None
    (event,) = Event.objects.filter(tag=BillingTag.PRENOTIFY_UNSENT)
    assert event.subject_id == str(zoe.person_id)
    assert event.details == {"notices": refused.count()}
    assert not Event.objects.filter(tag=BillingTag.PRENOTIFY_REFUSED).exists()
    with on(START):
        assert not notice_letters.pending().exists(), "the server's fault: e-mailed again"

    smtp_server.accept("zoe@example.org")
    before = refused.count()
    with on(START + datetime.timedelta(days=1), hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == ["zoe@example.org"]
    assert refused.count() == before, "the same notices, e-mailed: nothing new announced"
    runs = [e.details for e in Event.objects.filter(tag=BillingTag.PRENOTIFY)]
    assert {"members": 1, "notices": 0, "emails": 1, "again": before} in runs
    assert not refused.filter(emailed_at__isnull=True).exists()
    with on(START + datetime.timedelta(days=1)):
        assert (
            prenotify.announced(zoe.mandates.get(), JAN) == refused.get(collection_date=JAN).amount
        )


def test_an_address_that_is_not_one_refuses_its_letter_alone(smtp_server):
    """A legacy import's address the SMTP client cannot write, in the first letter: that letter
    is not sent, the next one is."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    alice = subscribed_on(START, first_names="Alice", seed=1).member
    cycle_on(START)  # notices recorded as e-mailed; the sending is called below, in order
    Person.objects.filter(pk=zoe.person_id).update(email="zoe@@example.org")
    letters = []
    for member in (zoe, alice):
        mandate = Mandate.objects.select_related("member__person").get(member=member)
        letters.append((mandate, list(PreNotification.objects.filter(member=member)), True))
    outcome = prenotify.Outcome()
    prenotify._send(letters, outcome)
    prenotify._settle(outcome)
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == [alice.person.email]
    assert (outcome.to_post, outcome.unsent) == (1, 0), "it cannot go by e-mail: by post"
    assert not PreNotification.objects.filter(member=zoe, emailed_at__isnull=False).exists()
    assert not PreNotification.objects.filter(member=zoe, email_refused_at__isnull=True).exists()
    assert not PreNotification.objects.filter(member=alice, emailed_at__isnull=True).exists()
    (event,) = Event.objects.filter(tag=BillingTag.PRENOTIFY_UNSENT)
    assert event.subject_id == str(zoe.person_id)


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 Destinataire inconnu",
        "550 5.5.0 Requested action not taken: mailbox unavailable",  # an unknown mailbox too
        "550 5.4.1 Recipient address rejected: Access denied",  # and so
        "552 5.2.2 Mailbox full",
        "451 4.3.0 Réessayez plus tard",  # for now, says the server: the post will not wait
    ],
)
@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_an_address_refused_sends_its_notices_by_post(smtp_server, reply):
    """The mail server refuses Zoé's address: her notices wait for the post and are not
    e-mailed again; the job does not fail for it but says it; once posted in time, they
    count."""
    alice = subscribed_on(START, first_names="Alice", seed=1).member
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    smtp_server.answer("zoe@example.org", reply)
    out = io.StringIO()
    with on(START, hour=2):
        call_command("billing_cycle", stdout=out)
    told = "1 courriel d'avis refusé par le serveur de messagerie ou mal adressé (avis à poster)"
    assert told in out.getvalue()
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == [alice.person.email]
    notices = PreNotification.objects.filter(member=zoe)
    assert notices.exists()
    assert not notices.filter(emailed_at__isnull=False).exists()
    assert not notices.filter(email_refused_at__isnull=True).exists()
    for tag in (BillingTag.PRENOTIFY_UNSENT, BillingTag.PRENOTIFY_REFUSED):
        (event,) = Event.objects.filter(tag=tag)
        assert event.subject_id == str(zoe.person_id)
        assert event.details == {"notices": notices.count()}
    with on(START):
        (letter,) = notice_letters.letters(notice_letters.pending())
    assert letter.mandate.member_id == zoe.pk and letter.email_refused_at is not None

    smtp_server.clear()
    with on(TODAY, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert smtp_server.messages == [], "a refused notice is not e-mailed again"
    assert Event.objects.filter(tag=BillingTag.PRENOTIFY_UNSENT).count() == 1, "nor tried"
    with on(TODAY):
        assert prenotify.announced(zoe.mandates.get(), JAN) is None, "not given yet"
    _, found = _run()
    assert [letter.mandate.member_id for letter in found] == [zoe.pk]
    assert not notices.filter(print_run__isnull=True).exists()
    with on(TODAY):
        assert (
            prenotify.announced(zoe.mandates.get(), JAN) == notices.get(collection_date=JAN).amount
        )


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_wrong_sender_setting_sends_nobody_to_the_post_and_fails_the_job(smtp_server, settings):
    """A typo in the sender's address makes every message unwritable: the server's side, not
    the members' addresses — every notice is e-mailed again next run, the job fails."""
    subscribed_on(START, first_names="Alice", seed=1)
    subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3)
    settings.DEFAULT_FROM_EMAIL = "Mutuelle <ne-pas-repondre@@mutuelle.example>"
    with on(START, hour=2), pytest.raises(CommandError, match="2 courriels d'avis"):
        call_command("billing_cycle", stdout=io.StringIO())
    assert smtp_server.messages == []
    assert not PreNotification.objects.filter(email_refused_at__isnull=False).exists()
    assert not PreNotification.objects.filter(emailed_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_most_of_a_run_refused_at_once_is_the_server_s_fault_not_the_addresses(
    smtp_server, monkeypatch
):
    """Four members, each refused 550 5.1.1 (a relay answering so for everyone), with more
    refusals than the breaker's count (two here, for four members) and more than half of the
    run, in chunks of one: no letter goes to the post, the job fails, the next run tries
    again; two refused of four are the addresses'."""
    monkeypatch.setattr(prenotify, "BREAKER_REFUSALS", 1)
    monkeypatch.setattr(prenotify, "CHUNK", 1)  # the breaker counts the run, not a chunk
    members = [
        subscribed_on(START, first_names=name, email=f"m{n}@example.org", seed=n).member
        for n, name in enumerate(["Alice", "Bob", "Chloé", "Dan"], start=1)
    ]
    for n in range(1, 5):
        smtp_server.refuse(f"m{n}@example.org")
    with on(START, hour=2), pytest.raises(CommandError, match="4 courriels d'avis"):
        call_command("billing_cycle", stdout=io.StringIO())
    assert not PreNotification.objects.filter(email_refused_at__isnull=False).exists()
    for n in (3, 4):
        smtp_server.accept(f"m{n}@example.org")
    with on(TODAY, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    refused = PreNotification.objects.filter(email_refused_at__isnull=False)
    assert set(refused.values_list("member", flat=True)) == {members[0].pk, members[1].pk}
    sent = {to for m in smtp_server.messages for to in m.rcpt_tos}
    assert sent == {"m3@example.org", "m4@example.org"}


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_corrected_address_takes_back_the_refused_notices_by_e_mail(smtp_server):
    """Zoé's address was refused, and she has no postal address either: once the service
    corrects her e-mail address, the next run e-mails the waiting notices, in time."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    Person.objects.filter(pk=zoe.person_id).update(
        address_line1="", address_line2="", postal_code="", city=""
    )
    smtp_server.refuse("zoe@example.org")
    with on(START, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    waiting = PreNotification.objects.filter(member=zoe, email_refused_at__isnull=False)
    assert waiting.exists()
    with on(START):
        members.rectify_contact_details(person=zoe.person, changes={"email": "zoe.ok@example.org"})
        assert not notice_letters.pending().exists(), "no longer waiting for the post"
    smtp_server.clear()
    with on(TODAY, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == ["zoe.ok@example.org"]
    with on(TODAY):
        assert prenotify.announced(zoe.mandates.get(), JAN) == (
            PreNotification.objects.get(member=zoe, collection_date=JAN).amount
        )


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_the_breaker_counts_only_the_letters_the_server_answered(smtp_server, monkeypatch):
    """A relay answers "550 Relaying denied" three times, then closes (421): three refused of
    the three it answered is its fault — nobody goes to the post, the job fails."""
    monkeypatch.setattr(prenotify, "BREAKER_REFUSALS", 2)
    for n, name in enumerate(["Alice", "Bob", "Chloé", "Dan", "Eve", "Fred"], start=1):
        subscribed_on(START, first_names=name, email=f"m{n}@example.org", seed=n)
    replies = iter(["550 Relaying denied"] * 3)

    async def rcpt(server, session, envelope, address, options):
        return next(replies, "421 4.7.0 Too many errors")

    smtp_server._handler.handle_RCPT = rcpt
    with on(START, hour=2), pytest.raises(CommandError, match="6 courriels d'avis"):
        call_command("billing_cycle", stdout=io.StringIO())
    assert not PreNotification.objects.filter(email_refused_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_line_break_in_one_address_refuses_that_letter_alone(smtp_server):
    alice = subscribed_on(START, first_names="Alice", email="m1@example.org", seed=1).member
    bob = subscribed_on(START, first_names="Bob", email="m2@example.org", seed=2).member
    chloe = subscribed_on(START, first_names="Chloé", email="m3@example.org", seed=3).member
    Person.objects.filter(pk=bob.person_id).update(email="m2@example.org\n")
    with on(START, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert {to for m in smtp_server.messages for to in m.rcpt_tos} == {
        alice.person.email,
        chloe.person.email,
    }
    with on(START):
        assert {n.member_id for n in notice_letters.pending()} == {bob.pk}


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_an_address_corrected_while_its_letter_was_refused_is_e_mailed_next(
    smtp_server, monkeypatch
):
    """Zoé corrects her address while the run is refused at the former one: the refusal is not
    held against the new address — no post, the next run e-mails the new one."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    smtp_server.refuse("zoe@example.org")
    to_post = prenotify._to_post

    def corrected_meanwhile(letters):
        members.rectify_contact_details(person=zoe.person, changes={"email": "zoe.ok@example.org"})
        return to_post(letters)

    monkeypatch.setattr(prenotify, "_to_post", corrected_meanwhile)
    out = io.StringIO()
    with on(START, hour=2):
        call_command("billing_cycle", stdout=out)  # neither refused nor the server's fault
    assert "0 courriel d'avis refusé" in out.getvalue()
    assert not PreNotification.objects.filter(email_refused_at__isnull=False).exists()
    monkeypatch.undo()
    with on(TODAY, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert [to for m in smtp_server.messages for to in m.rcpt_tos] == ["zoe.ok@example.org"]


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_correction_on_a_notice_s_last_day_leaves_that_one_with_the_post(smtp_server):
    """The next daily run is tomorrow's: the notice whose last day is today stays in the postal
    queue (still postable today); the later ones are taken back, audited."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    smtp_server.refuse("zoe@example.org")
    with on(START, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    last_day = calendar.latest_notice_day(JAN)
    with on(last_day):
        members.rectify_contact_details(person=zoe.person, changes={"email": "zoe.ok@example.org"})
        assert [n.collection_date for n in notice_letters.pending()] == [JAN]
    taken_back = PreNotification.objects.filter(member=zoe, email_refused_at__isnull=True)
    assert taken_back.exists() and not taken_back.filter(collection_date=JAN).exists()
    (event,) = Event.objects.filter(tag=BillingTag.PRENOTIFY_READDRESSED)
    assert event.subject_id == str(zoe.person_id)
    assert event.details == {"notices": taken_back.count()}


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_few_refusals_are_the_addresses_even_when_they_are_the_whole_run(smtp_server):
    """Three members whose addresses are all dead, on a day nobody else is written to: under
    the breaker's count, their notices go to the post (held, they would be offered and
    refused again each day, never posted)."""
    for n, name in enumerate(["Alice", "Bob", "Chloé"], start=1):
        subscribed_on(START, first_names=name, email=f"m{n}@example.org", seed=n)
        smtp_server.refuse(f"m{n}@example.org")
    with on(START, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    with on(START):
        assert len({n.member_id for n in notice_letters.pending()}) == 3


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_server_closing_during_the_message_holds_the_letter(smtp_server):
    """421 to the message (DATA): the server's going away, not a refusal — e-mailed again."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member

    async def data(server, session, envelope):
        return "421 4.3.2 Service en cours d'arrêt"

    smtp_server._handler.handle_DATA = data
    with on(START, hour=2), pytest.raises(CommandError, match="1 courriel d'avis"):
        call_command("billing_cycle", stdout=io.StringIO())
    assert not PreNotification.objects.filter(member=zoe, email_refused_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_run_stopped_before_its_end_leaves_its_refused_letters_not_given(
    smtp_server, monkeypatch
):
    """Zoé's letter is refused, then the run dies before it settles the refusals (a database
    error, the job killed): her notices are not counted as given all the same — the next run
    offers them again."""
    monkeypatch.setattr(prenotify, "CHUNK", 1)
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    subscribed_on(START, first_names="Alice", seed=1)
    smtp_server.refuse("zoe@example.org")

    def killed(outcome):
        raise RuntimeError("the job killed")

    monkeypatch.setattr(prenotify, "_settle", killed)
    with on(START, hour=2), pytest.raises(RuntimeError):
        cycle.run(today=START)
    zoes = PreNotification.objects.filter(member=zoe)
    assert zoes.exists() and not zoes.filter(emailed_at__isnull=False).exists()
    assert not zoes.filter(email_refused_at__isnull=False).exists()
    monkeypatch.undo()
    smtp_server.accept("zoe@example.org")
    with on(TODAY, hour=2):
        call_command("billing_cycle", stdout=io.StringIO())
    assert "zoe@example.org" in {to for m in smtp_server.messages for to in m.rcpt_tos}


@pytest.mark.django_db(transaction=True)  # the e-mails leave as the run's chunks commit
def test_a_mail_setting_that_fails_the_connection_holds_every_letter(smtp_server, settings):
    subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3)
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = True  # Django refuses both at once
    with on(START, hour=2), pytest.raises(CommandError, match="1 courriel d'avis"):
        call_command("billing_cycle", stdout=io.StringIO())
    assert not PreNotification.objects.filter(emailed_at__isnull=False).exists()
