"""The payment data as the declaration says: in the access copy and the portability archive,
archived after their financial year and deleted ten years later, the IBAN gone 13 months after
the last debit, whatever still refers to them."""

import datetime
import io
import json
import zipfile
import zoneinfo

import pytest
import time_machine

from mutualis.billing.models import (
    Debit,
    DebitReturn,
    Instalment,
    LedgerEntry,
    LedgerKind,
    Mandate,
    PreNotification,
)
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.testing import batch_on, cycle_on, on, pain002, subscribed_on
from mutualis.privacy import retention
from mutualis.rights.export import build_access_export, portability_archive

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)
JAN, FEB = datetime.date(2027, 1, 5), datetime.date(2027, 2, 5)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def paid(tmp_path):
    """Two debits of Alice's, the second rejected: her account was closed (AC04), which ended
    the mandate on 8 February 2027."""
    contract = subscribed_on(START)
    cycle_on(START)
    batch_on(JAN, tmp_path)
    cycle_on(JAN)
    feb = batch_on(FEB, tmp_path)
    cycle_on(FEB)
    with on(datetime.date(2027, 2, 8)):
        import_bytes(
            pain002(
                feb.batch,
                [(contract.member.debits.get(batch=feb.batch), "AC04")],
                day=datetime.date(2027, 2, 8),
            ),
            file_name="r.xml",
        )
    return contract


def test_the_access_copy_holds_the_schedule_the_ledger_and_the_debits(paid):
    data = build_access_export(paid.member.person)
    codes = {r["model_code"] for category in data["categories"] for r in category["records"]}
    assert {"billing.instalment", "billing.ledgerentry", "billing.debit"} <= codes
    text = json.dumps(data, default=str, ensure_ascii=False)
    assert "Prélèvement du 05/01/2027" in text and "rejeté (compte clôturé)" in text


def test_the_payment_history_is_portable_the_computed_premiums_are_not(paid):
    archive = zipfile.ZipFile(io.BytesIO(portability_archive(paid.member.person)))
    payments = json.loads(archive.read("payment_terms.json"))["records"]
    types = {record["record_type"] for record in payments}
    assert "billing.ledgerentry" in types and "billing.instalment" not in types
    assert "Prélèvement du 05/01/2027" in archive.read("payment_terms.csv").decode()


def _enforce(day: datetime.date):
    with time_machine.travel(
        datetime.datetime(day.year, day.month, day.day, 12, tzinfo=PARIS), tick=False
    ):
        return retention.enforce()


def test_accounting_records_are_archived_after_their_year_then_deleted_ten_years_on(paid):
    _enforce(datetime.date(2027, 6, 1))
    # December 2026's entries are archived once their year is over; 2027's are not yet.
    assert LedgerEntry.objects.filter(booked_on__year=2026, archived_at__isnull=False).exists()
    assert not LedgerEntry.objects.filter(booked_on__year=2027, archived_at__isnull=False)
    _enforce(datetime.date(2028, 1, 2))
    archived = LedgerEntry.objects.filter(booked_on__year=2027, archived_at__isnull=False)
    assert archived.count() == LedgerEntry.objects.filter(booked_on__year=2027).count() > 0
    # The IBAN went 13 months after the last debit (the mandate's own rule)...
    _enforce(datetime.date(2028, 4, 1))
    assert not Mandate.objects.exists()
    # ...while the accounting records stay ten years after the end of their year.
    assert Debit.objects.count() == 2 and PreNotification.objects.exists() is not None
    _enforce(datetime.date(2037, 12, 31))
    assert LedgerEntry.objects.filter(booked_on__year=2027).exists()
    _enforce(datetime.date(2038, 1, 2))
    assert not LedgerEntry.objects.filter(booked_on__year=2027).exists()
    assert not Instalment.objects.filter(month__year=2027).exists()
    assert not Debit.objects.exists() and not DebitReturn.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REJECTION).exists()


def test_the_engine_deletes_what_refers_before_what_is_referred_to():
    order = [t.label for t in retention.targets(only_app="billing")]
    assert order.index("billing.LedgerEntry") < order.index("billing.Instalment")
    assert order.index("billing.DebitReturn") < order.index("billing.Debit")
    assert order.index("billing.Instalment") < order.index("billing.Debit")
