"""The ledger: signed entries, the balance as their sum on a day, one entry per fact."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from mutualis.audit.models import Event
from mutualis.billing import ledger
from mutualis.billing.models import LedgerEntry, LedgerKind

pytestmark = pytest.mark.django_db

JAN = datetime.date(2026, 1, 5)
FEB = datetime.date(2026, 2, 5)


def _book(member, kind, amount, day, key=None):
    return ledger.book(
        member=member, kind=kind, amount=Decimal(amount), booked_on=day, label="x", key=key
    )


def test_the_balance_is_the_sum_of_what_is_booked_up_to_the_day(alice):
    _book(alice, LedgerKind.PREMIUM, "84.30", JAN)
    _book(alice, LedgerKind.DEBIT, "84.30", JAN)
    _book(alice, LedgerKind.PREMIUM, "84.30", FEB)
    _book(alice, LedgerKind.REJECTION, "84.30", FEB)
    _book(alice, LedgerKind.FEE, "7.50", FEB)
    assert ledger.balance(alice, on=JAN) == Decimal("0.00")
    assert ledger.balance(alice, on=FEB) == Decimal("176.10")
    assert ledger.balance(alice, on=JAN - datetime.timedelta(days=1)) == Decimal("0.00")
    received = LedgerEntry.objects.get(kind=LedgerKind.DEBIT)
    assert received.amount == Decimal("-84.30") and received.year_end == datetime.date(2026, 12, 31)


def test_a_fact_booked_twice_is_booked_once_and_audited_once(alice):
    first, created = _book(alice, LedgerKind.PREMIUM, "10", JAN, key="premium:test")
    again, created_again = _book(alice, LedgerKind.PREMIUM, "10", JAN, key="premium:test")
    assert created and not created_again and first.pk == again.pk
    assert LedgerEntry.objects.count() == 1
    assert (
        Event.objects.filter(tag="billing:ledger:book", target__endswith=str(first.pk)).count() == 1
    )


def test_floats_zero_and_negative_amounts_are_refused_and_nothing_is_written(alice):
    with pytest.raises(TypeError):
        ledger.book(member=alice, kind=LedgerKind.FEE, amount=7.5, booked_on=JAN, label="x")
    for amount in ("0", "-3"):
        with pytest.raises(ValueError), transaction.atomic():
            _book(alice, LedgerKind.FEE, amount, JAN)
    assert not LedgerEntry.objects.exists()
