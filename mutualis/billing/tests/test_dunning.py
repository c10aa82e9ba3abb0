"""Unpaid premiums through C. mutualité L221-7 on frozen time: notice 10 days after the due
date, suspension 30 days after the notice, termination possible 10 days later, cover restored at
noon the day after full payment — in the mutuelle's time zone, at the edges of each period."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail

from mutualis.audit.models import Event
from mutualis.billing import dunning, letters
from mutualis.billing.models import (
    DunningCase,
    DunningLetter,
    DunningStage,
    Instalment,
    LedgerKind,
    LetterKind,
)
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.testing import batch_on, cycle_on, on, pain002, subscribed_on
from mutualis.contracts.cover import CoverStatus, cover_status
from mutualis.recipients.rights_check import cover_of

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
START = datetime.date(2026, 12, 1)
JAN = datetime.date(2027, 1, 5)
REJECTED_ON = datetime.date(2027, 1, 7)
D = datetime.date


@pytest.fixture
def rejected(tmp_path):
    """Alice's first debit (December and January) rejected on 7 January for lack of funds."""
    contract = subscribed_on(START)
    cycle_on(START)
    batch = batch_on(JAN, tmp_path).batch
    cycle_on(JAN)
    debit = contract.member.debits.get()
    with on(REJECTED_ON):
        import_bytes(pain002(batch, [(debit, "AM04")]), file_name="sts.xml")
    return contract


def _case(contract):
    return DunningCase.objects.get(contract=contract)


def test_the_whole_sequence_from_due_date_to_termination(rejected):
    contract = rejected
    cycle_on(REJECTED_ON)
    case = _case(contract)
    # The unpaid premium is December's (due on the 5th); the notice was possible from the 15th.
    assert case.due_date == D(2026, 12, 5)
    assert case.stage == DunningStage.NOTICE and case.notice_sent_on == REJECTED_ON
    owed = sum(
        (i.amount for i in Instalment.objects.filter(contract=contract, debit__isnull=False)),
        Decimal("0"),
    )
    assert case.amount == owed
    # Thirty days after the notice: 6 February. The day before, still covered.
    cycle_on(D(2027, 2, 5))
    assert _case(contract).stage == DunningStage.NOTICE
    assert cover_status(contract, on=D(2027, 2, 5)) == CoverStatus.COVERED
    cycle_on(D(2027, 2, 6))
    case = _case(contract)
    assert case.stage == DunningStage.SUSPENDED and case.suspended_from == D(2027, 2, 6)
    assert cover_status(contract, on=D(2027, 2, 6)) == CoverStatus.SUSPENDED
    # The health professionals' rights check reads the same status.
    with on(D(2027, 2, 8)):
        assert cover_of(contract.member.person, on=D(2027, 2, 8))[0] == CoverStatus.SUSPENDED
    # Termination is possible ten days after the suspension began: 16 February.
    with on(D(2027, 2, 15)), pytest.raises(dunning.DunningError, match="16/02/2027"):
        dunning.terminate(case, today=D(2027, 2, 15), actor=None)
    report = cycle_on(D(2027, 2, 16))
    assert case.pk in report.dunning.to_terminate  # on the service's queue, not done by itself
    with on(D(2027, 2, 16)):
        dunning.terminate(_case(contract), today=D(2027, 2, 16), actor=None)
    contract.refresh_from_db()
    assert contract.end_date == D(2027, 2, 16)
    assert cover_status(contract, on=D(2027, 2, 17)) == CoverStatus.TERMINATED
    # The months after the termination are no longer due.
    assert not Instalment.objects.filter(contract=contract, month__gte=D(2027, 3, 1), amount__gt=0)
    kinds = set(
        DunningLetter.objects.filter(case__contract=contract).values_list("kind", flat=True)
    )
    assert kinds == {LetterKind.NOTICE, LetterKind.SUSPENSION, LetterKind.TERMINATION}
    tags = set(
        Event.objects.filter(tag__startswith="billing:dunning").values_list("tag", flat=True)
    )
    assert tags >= {
        "billing:dunning:open",
        "billing:dunning:notice",
        "billing:dunning:suspend",
        "billing:dunning:terminate",
    }


def test_full_payment_restores_the_cover_at_noon_the_next_day(
    rejected, django_capture_on_commit_callbacks
):
    contract = rejected
    cycle_on(REJECTED_ON)
    cycle_on(D(2027, 2, 6))
    case = _case(contract)
    with on(D(2027, 2, 10)), django_capture_on_commit_callbacks(execute=True):
        dunning.record_payment(
            member=contract.member,
            kind=LedgerKind.TRANSFER,
            amount=case.amount,
            paid_on=D(2027, 2, 10),
            reference="VIR-123",
            actor=None,
        )
    case.refresh_from_db()
    assert case.stage == DunningStage.SETTLED and case.settled_on == D(2027, 2, 10)
    assert case.restored_at == datetime.datetime(2027, 2, 11, 12, tzinfo=PARIS)
    before = datetime.datetime(2027, 2, 11, 11, 59, 59, tzinfo=PARIS)
    assert cover_status(contract, at=before) == CoverStatus.SUSPENDED
    assert cover_status(contract, at=case.restored_at) == CoverStatus.COVERED
    # 11:00 UTC is noon in Paris in winter: the zone is the mutuelle's, not the server's.
    utc_noon = datetime.datetime(2027, 2, 11, 11, tzinfo=datetime.UTC)
    assert cover_status(contract, at=utc_noon) == CoverStatus.COVERED
    assert DunningLetter.objects.filter(case=case, kind=LetterKind.RESTORATION).exists()
    assert any("reprennent effet le 11 février 2027 à midi" in m.body for m in mail.outbox)
    # Nothing more happens once settled.
    cycle_on(D(2027, 3, 1))
    assert _case(contract).stage == DunningStage.SETTLED


def test_the_notice_waits_ten_days_after_the_due_date(settings, rejected):
    settings.MUTUALIS_DUNNING_AUTOMATIC_NOTICE = False
    cycle_on(REJECTED_ON)
    case = _case(rejected)
    assert case.stage == DunningStage.OVERDUE
    early = D(2026, 12, 14)
    with pytest.raises(dunning.DunningError, match="15/12/2026"):
        dunning.send_notice(case, today=early, actor=None)
    with on(D(2027, 1, 8)):
        dunning.send_notice(case, today=D(2027, 1, 8), actor=None)
    assert _case(rejected).notice_sent_on == D(2027, 1, 8)
    with pytest.raises(dunning.DunningError, match="déjà"):
        dunning.send_notice(_case(rejected), today=D(2027, 1, 9), actor=None)


def test_a_payment_plan_pauses_the_steps(rejected):
    cycle_on(REJECTED_ON)
    case = _case(rejected)
    with on(D(2027, 1, 10)):
        plan = dunning.grant_plan(
            case=case, instalment_count=3, first_date=D(2027, 1, 20), actor=None
        )
    assert plan.instalment_amount == (case.amount / 3).quantize(Decimal("0.01"))
    cycle_on(D(2027, 2, 10))
    assert _case(rejected).stage == DunningStage.NOTICE  # not suspended while the plan runs
    with on(D(2027, 2, 11)):
        dunning.end_plan(plan, actor=None)
    cycle_on(D(2027, 2, 11))
    assert _case(rejected).stage == DunningStage.SUSPENDED
    with on(D(2027, 2, 12)), pytest.raises(dunning.DunningError):
        dunning.grant_plan(case=case, instalment_count=1, first_date=D(2027, 2, 20), actor=None)


def test_a_premium_waiting_for_its_announced_debit_is_not_unpaid():
    contract = subscribed_on(START)
    cycle_on(START)
    cycle_on(D(2026, 12, 20))  # December's premium is booked, its debit is on 5 January
    assert dunning.unpaid(contract.member, on=D(2026, 12, 20)) is None
    assert not DunningCase.objects.exists()


def test_the_letters_read_as_pdf(rejected):
    from pypdf import PdfReader

    cycle_on(REJECTED_ON)
    letter = DunningLetter.objects.get(kind=LetterKind.NOTICE)
    data = letters.render_pdf([letter])
    import io

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    assert "Mise en demeure" in flat and "L221-7" in flat
    assert "6 février 2027" in flat  # the suspension date announced
    assert rejected.member.number in flat and rejected.member.person.last_name in flat
