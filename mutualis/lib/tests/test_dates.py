import datetime

import pytest

from mutualis.lib.dates import (
    add_months,
    add_working_days,
    french_public_holidays,
    is_target_day,
    is_working_day,
    next_target_day,
)

D = datetime.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # shorter month: its last day
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 12, 31), 1, D(2027, 1, 31)),  # year change
        (D(2026, 3, 31), 3, D(2026, 6, 30)),  # three months (art. 12(3) extended)
        (D(2026, 8, 31), -6, D(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("year", "easter_monday"),
    [(2024, D(2024, 4, 1)), (2025, D(2025, 4, 21)), (2027, D(2027, 3, 29)), (2038, D(2038, 4, 26))],
)
def test_the_easter_based_holidays_move_with_easter(year, easter_monday):
    days = french_public_holidays(year)
    assert easter_monday in days
    assert easter_monday + datetime.timedelta(days=38) in days  # Ascension (Thursday)
    assert easter_monday + datetime.timedelta(days=49) in days  # Whit Monday
    assert len(days) == 11  # metropolitan France: no Good Friday, no 26 December


def test_2026_public_holidays():
    assert french_public_holidays(2026) == {
        D(2026, 1, 1),
        D(2026, 4, 6),
        D(2026, 5, 1),
        D(2026, 5, 8),
        D(2026, 5, 14),
        D(2026, 5, 25),
        D(2026, 7, 14),
        D(2026, 8, 15),
        D(2026, 11, 1),
        D(2026, 11, 11),
        D(2026, 12, 25),
    }


def test_weekends_and_holidays_are_not_working_days():
    assert not is_working_day(D(2026, 11, 28))  # Saturday
    assert not is_working_day(D(2026, 11, 11))  # Armistice, a Wednesday
    assert is_working_day(D(2026, 11, 26))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (D(2026, 11, 26), D(2026, 12, 10)),  # plain: two weeks
        (D(2026, 11, 6), D(2026, 11, 23)),  # crosses 11 November
        (D(2026, 12, 18), D(2027, 1, 5)),  # Christmas and New Year's Day
        (D(2026, 4, 30), D(2026, 5, 19)),  # 1 May, 8 May and Ascension (14 May)
        (D(2026, 11, 28), D(2026, 12, 11)),  # received on a Saturday
    ],
)
def test_ten_working_days(start, expected):
    assert add_working_days(start, 10) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2027, 2, 5), datetime.date(2027, 2, 5)),  # a Friday, open
        (datetime.date(2027, 6, 5), datetime.date(2027, 6, 7)),  # a Saturday: Monday
        (datetime.date(2027, 1, 1), datetime.date(2027, 1, 4)),  # New Year's Day, Friday
        (datetime.date(2027, 3, 26), datetime.date(2027, 3, 30)),  # Good Friday, Easter Monday
        (datetime.date(2027, 5, 1), datetime.date(2027, 5, 3)),  # Labour Day (a Saturday)
        (datetime.date(2026, 12, 25), datetime.date(2026, 12, 28)),  # Christmas, 26th (Sat)
    ],
)
def test_a_collection_date_moves_to_the_next_target2_settlement_day(day, expected):
    assert next_target_day(day) == expected


def test_french_holidays_that_target2_keeps_open_are_settlement_days():
    assert is_target_day(datetime.date(2027, 7, 14))  # Bastille Day, a Wednesday
    assert is_target_day(datetime.date(2027, 5, 13))  # Ascension Thursday
    assert not is_working_day(datetime.date(2027, 7, 14))
