"""The one-month deadline (GDPR art. 12(3)) at month ends, leap years and year changes, and its
extension and waiting rules."""

from __future__ import annotations

import datetime

import pytest

from mutualis.rights.deadlines import due_date

D = datetime.date


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2026, 1, 15), D(2026, 2, 15)),
        (D(2026, 1, 31), D(2026, 2, 28)),  # February is shorter: its last day
        (D(2028, 1, 31), D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), D(2026, 4, 30)),
        (D(2028, 2, 29), D(2028, 3, 29)),
        (D(2026, 12, 15), D(2027, 1, 15)),  # year change
        (D(2026, 12, 31), D(2027, 1, 31)),
        (D(2026, 2, 28), D(2026, 3, 28)),  # not "end of month to end of month"
    ],
)
def test_the_deadline_is_one_calendar_month_clamped_to_the_month_end(received, due):
    assert due_date(received) == due


def test_an_extension_adds_up_to_two_months_from_receipt():
    assert due_date(D(2026, 1, 31), extended_by=1) == D(2026, 3, 31)
    assert due_date(D(2026, 1, 31), extended_by=2) == D(2026, 4, 30)
    assert due_date(D(2027, 12, 31), extended_by=2) == D(2028, 3, 31)


def test_an_extension_beyond_two_months_is_not_a_deadline():
    with pytest.raises(ValueError):
        due_date(D(2026, 1, 1), extended_by=3)
    with pytest.raises(ValueError):
        due_date(D(2026, 1, 1), extended_by=-1)


def test_days_spent_waiting_for_an_identity_document_are_added():
    assert due_date(D(2026, 1, 31), waited_days=10) == D(2026, 3, 10)
    assert due_date(D(2026, 1, 31), extended_by=2, waited_days=1) == D(2026, 5, 1)
