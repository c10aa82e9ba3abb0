import datetime

from mutualis.contracts.cover import CoverStatus, cover_status
from mutualis.contracts.models import Contract

START = datetime.date(2026, 3, 1)
END = datetime.date(2026, 12, 31)


def _contract(end=None) -> Contract:
    return Contract(start_date=START, end_date=end)


def test_a_contract_covers_nobody_before_its_start_date():
    assert (
        cover_status(_contract(), on=START - datetime.timedelta(days=1)) == CoverStatus.NOT_COVERED
    )


def test_a_contract_covers_from_its_start_date_to_its_end_date_included():
    contract = _contract(END)
    assert cover_status(contract, on=START) == CoverStatus.COVERED
    assert cover_status(contract, on=END) == CoverStatus.COVERED


def test_a_contract_past_its_end_date_is_terminated():
    assert cover_status(_contract(END), on=END + datetime.timedelta(days=1)) == (
        CoverStatus.TERMINATED
    )
