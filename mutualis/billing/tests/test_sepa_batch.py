"""The batch of a collection date: its pain.008 file checked against the official XSD, written
again to the same bytes, resumable after a kill at any point, never debiting anyone twice."""

import datetime
import os
import stat
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from lxml import etree

from mutualis.audit.models import Event
from mutualis.billing import calendar
from mutualis.billing.models import (
    BatchStatus,
    Debit,
    DebitBatch,
    DebitStatus,
    Instalment,
    LedgerEntry,
    LedgerKind,
    PreNotification,
)
from mutualis.billing.sepa import build, document, release
from mutualis.billing.testing import batch_on, cycle_on, on, subscribed_on

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)  # 1 December: next year's schedule is announced too
JAN = datetime.date(2027, 1, 5)  # a Tuesday: January's collection date
FEB = datetime.date(2027, 2, 5)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@pytest.fixture
def two_members():
    alice = subscribed_on(START, first_names="Alice", email="alice@example.org", seed=1)
    dave = subscribed_on(START, first_names="Dave", email="dave@example.org", seed=2, children=0)
    cycle_on(START)
    return alice, dave


def _owed(contract, day):
    return sum(
        (i.amount for i in Instalment.objects.filter(contract=contract, due_date__lte=day)),
        Decimal("0"),
    )


def test_the_first_debit_takes_what_the_schedule_announced_and_validates_against_the_xsd(
    two_members, tmp_path
):
    alice, dave = two_members
    # December's premium falls due on the 7th, too soon to be announced 14 days ahead: it is
    # collected with January's, as the schedule e-mailed on 1 December said.
    assert calendar.collection_date(datetime.date(2026, 12, 1)) == datetime.date(2026, 12, 7)
    notice = PreNotification.objects.get(mandate__member=alice.member, collection_date=JAN)
    assert notice.amount == _owed(alice, JAN) and notice.schedule
    outcome = batch_on(JAN, tmp_path)
    batch = outcome.batch
    assert batch.status == BatchStatus.RELEASED and batch.debit_count == 2
    assert batch.total == _owed(alice, JAN) + _owed(dave, JAN)
    assert document.validate(outcome.path, "pain.008.001.08") == 2
    # sepaxml's own validator (xmlschema) agrees with lxml's.
    from sepaxml.validation import try_valid_xml

    try_valid_xml(outcome.path.read_bytes(), "pain.008.001.08")
    tree = etree.parse(str(outcome.path))
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert tree.findtext(".//p:PmtInf/p:PmtTpInf/p:SeqTp", namespaces=NS) == "FRST"
    assert tree.findtext(".//p:ReqdColltnDt", namespaces=NS) == "2027-01-05"
    debit = Debit.objects.get(member=alice.member)
    assert debit.status == DebitStatus.SENT
    entry = LedgerEntry.objects.get(debit=debit, kind=LedgerKind.DEBIT)
    assert entry.amount == -debit.amount and entry.booked_on == JAN
    assert set(Instalment.objects.filter(debit=debit).values_list("month", flat=True)) == {
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
    }
    assert stat.S_IMODE(os.stat(outcome.path).st_mode) == 0o600
    assert Event.objects.filter(tag="billing:batch:release", target__endswith=str(batch.pk))


def test_the_former_message_version_validates_too(two_members, tmp_path):
    outcome = batch_on(JAN, tmp_path, schema="pain.008.001.02")
    assert document.validate(outcome.path, "pain.008.001.02") == 2
    text = outcome.path.read_text()
    assert "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" in text and "<BIC>" in text


def test_a_rerun_writes_the_same_bytes_and_debits_nobody_twice(two_members, tmp_path):
    first = batch_on(JAN, tmp_path / "a")
    data = first.path.read_bytes()
    again = batch_on(JAN, tmp_path / "a", today=JAN - datetime.timedelta(days=1))
    assert again.already_released and again.path.read_bytes() == data
    # Even written anew elsewhere (the file was lost), it is the same file.
    elsewhere = batch_on(JAN, tmp_path / "b", today=JAN - datetime.timedelta(days=1))
    assert elsewhere.path.read_bytes() == data
    assert Debit.objects.count() == 2
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEBIT).count() == 2
    # February's batch takes February only.
    feb = batch_on(FEB, tmp_path / "c")
    assert feb.batch.debit_count == 2
    assert Debit.objects.count() == 4
    assert "RCUR" in feb.path.read_text() and "FRST" not in feb.path.read_text()


class Killed(Exception):
    pass


@pytest.mark.parametrize("where", ["build", "write", "rename", "release"])
def test_a_batch_killed_anywhere_then_run_again_ends_with_the_same_file(
    two_members, tmp_path, monkeypatch, settings, where
):
    settings.MUTUALIS_SEPA_CHUNK = 1
    # The same batch run through without a kill, then forgotten.
    with transaction.atomic():
        clean = batch_on(JAN, tmp_path / "clean").path.read_bytes()
        transaction.set_rollback(True)
    assert not DebitBatch.objects.exists()

    calls = {"n": 0}

    def kill_after_first(original):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed
            return original(*args, **kwargs)

        return wrapper

    if where == "build":
        monkeypatch.setattr(build, "_build_chunk", kill_after_first(build._build_chunk))
    elif where == "write":
        monkeypatch.setattr(
            document.TransactionBuilder,
            "element",
            kill_after_first(document.TransactionBuilder.element),
        )
    elif where == "rename":
        monkeypatch.setattr(release, "release", kill_after_first(lambda *a, **k: None))
        calls["n"] = 1
    else:
        monkeypatch.setattr(release, "_release_chunk", kill_after_first(release._release_chunk))
    with pytest.raises(Killed):
        batch_on(JAN, tmp_path / "run")
    monkeypatch.undo()
    outcome = batch_on(JAN, tmp_path / "run", today=JAN - datetime.timedelta(days=1))
    assert outcome.path.read_bytes() == clean
    assert [p.name for p in (tmp_path / "run").iterdir()] == [outcome.path.name]  # no leftovers
    assert Debit.objects.filter(status=DebitStatus.SENT).count() == 2
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEBIT).count() == 2


def test_the_command_refuses_a_day_that_is_no_collection_date_and_a_past_one(two_members):
    with on(datetime.date(2027, 1, 2)), pytest.raises(CommandError, match="pas une date"):
        call_command("sepa_batch", "--collection-date", "2027-01-06")
    with on(datetime.date(2027, 1, 8)), pytest.raises(CommandError, match="est passé"):
        call_command("sepa_batch", "--collection-date", "2027-01-05")
    with pytest.raises(CommandError, match="date invalide"):
        call_command("sepa_batch", "--collection-date", "05/01/2027")
    assert not DebitBatch.objects.exists()


def test_the_command_writes_where_settings_say_and_reports_in_french(
    two_members, tmp_path, settings, capsys
):
    settings.MUTUALIS_SEPA_OUT_DIR = str(tmp_path)
    with on(datetime.date(2027, 1, 1)):
        call_command("sepa_batch", "--next")
    out = capsys.readouterr().out
    assert "Remise du 05/01/2027 transmise : 2 prélèvements" in out
    assert (tmp_path / "prelevements-2027-01-05.xml").exists()
    with on(datetime.date(2027, 1, 10)):
        call_command("sepa_batch", "--next")
    assert "rien à faire" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_process_killed_by_sigkill_then_run_again_debits_each_member_once(
    settings, tmp_path
):
    """A real process, really killed (SIGKILL, nothing to clean up) while it builds the
    debits, then started again: the same end state as one run."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.utils import timezone

    from mutualis.billing import cycle

    today = timezone.localdate()
    for i in range(30):
        subscribed_on(today, first_names=f"K{i}", email=f"k{i}@example.org", seed=100 + i)
    cycle.run(today=today)
    day = calendar.next_collection_date(today + datetime.timedelta(days=14))
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "MUTUALIS_TESTING": "1",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        "MUTUALIS_SEPA_CHUNK": "1",  # one transaction per debit: something to kill midway
        # A killed process removes nothing: its own directory goes with the test's.
        "MUTUALIS_SEPA_OUT_DIR": str(tmp_path / "default"),
    }
    root = Path(__file__).resolve().parents[3]
    command = [
        sys.executable,
        str(root / "manage.py"),
        "sepa_batch",
        "--collection-date",
        day.isoformat(),
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, env=env, cwd=root)  # noqa: S603
    deadline = time.monotonic() + 120  # a safety net against a hung test, not a speed check
    while Debit.objects.count() < 5 and process.poll() is None:
        assert time.monotonic() < deadline, "the batch never started"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    built = Debit.objects.count()
    assert 5 <= built < 30 and not DebitBatch.objects.filter(status=BatchStatus.RELEASED)
    subprocess.run(command, env=env, cwd=root, check=True, capture_output=True)  # noqa: S603
    assert Debit.objects.count() == 30
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEBIT).count() == 30
    assert Instalment.objects.filter(debit__isnull=False).values("debit").distinct().count() == 30
    [path] = tmp_path.glob("prelevements-*.xml")
    assert document.validate(path, "pain.008.001.08") == 30
    assert list(tmp_path.glob(".prelevements-*")) == []
