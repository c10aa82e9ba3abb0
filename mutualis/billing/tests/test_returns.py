"""Bank reports on our debits: pain.002 rejects, camt.054 returns and refunds, the CSV fallback.
Each return books the ledger, opens the queue line and tells the member; a file is applied
whole or not at all, and once."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from lxml import etree

from mutualis.audit.models import Event
from mutualis.billing import ledger
from mutualis.billing.models import (
    Debit,
    DebitReturn,
    DebitStatus,
    LedgerEntry,
    LedgerKind,
    Mandate,
    ReturnFile,
    ReturnKind,
    ReturnStatus,
)
from mutualis.billing.returns import apply, parse
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.returns.parse import ReturnFileError
from mutualis.billing.testing import batch_on, camt054, cycle_on, on, pain002, subscribed_on

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)
JAN = datetime.date(2027, 1, 5)


@pytest.fixture
def sent(tmp_path):
    """Alice's and Dave's first debits, sent to the bank for 5 January."""
    alice = subscribed_on(START, first_names="Alice", email="alice@example.org", seed=1)
    dave = subscribed_on(START, first_names="Dave", email="dave@example.org", seed=2, children=0)
    cycle_on(START)
    batch = batch_on(JAN, tmp_path).batch
    cycle_on(JAN)  # December's and January's premiums are booked as due
    mail.outbox.clear()
    return {
        "alice": Debit.objects.get(member=alice.member),
        "dave": Debit.objects.get(member=dave.member),
        "batch": batch,
    }


def test_a_rejected_debit_books_the_rejection_opens_the_queue_and_tells_the_member(
    sent, smtp_server, django_capture_on_commit_callbacks
):
    alice = sent["alice"]
    with on(datetime.date(2027, 1, 7)), django_capture_on_commit_callbacks(execute=True):
        outcome = import_bytes(pain002(sent["batch"], [(alice, "AM04")]), file_name="sts.xml")
    assert outcome.applied == 1
    returned = DebitReturn.objects.get(debit=alice)
    assert returned.kind == ReturnKind.REJECT and returned.reason_code == "AM04"
    assert returned.status == ReturnStatus.OPEN
    alice.refresh_from_db()
    assert alice.status == DebitStatus.REJECTED
    rejection = LedgerEntry.objects.get(member=alice.member, kind=LedgerKind.REJECTION)
    assert rejection.amount == alice.amount and rejection.booked_on == datetime.date(2027, 1, 7)
    assert ledger.balance(alice.member, on=datetime.date(2027, 1, 7)) == alice.amount
    # The member is told, by a real SMTP exchange on loopback.
    assert [m.rcpt_tos for m in smtp_server.messages] == [["alice@example.org"]]
    body = smtp_server.messages[0].body
    assert "provision insuffisante" in body and "L221-7" in body
    assert alice.mandate.iban not in body
    # Dave's debit went through: nothing changed for him.
    assert Debit.objects.get(pk=sent["dave"].pk).status == DebitStatus.SENT
    assert Event.objects.filter(tag="billing:returns:import").count() == 2  # the file, the return


def test_importing_the_same_file_twice_changes_nothing_the_second_time(sent):
    data = pain002(sent["batch"], [(sent["alice"], "AM04")])
    import_bytes(data, file_name="sts.xml")
    entries = LedgerEntry.objects.count()
    events = Event.objects.count()
    again = import_bytes(data, file_name="copie.xml")
    assert again.already and again.applied == 0
    assert LedgerEntry.objects.count() == entries and Event.objects.count() == events
    assert ReturnFile.objects.count() == 1


def test_a_return_and_a_refund_in_a_camt_054_with_the_bank_s_fee(
    sent, django_capture_on_commit_callbacks
):
    alice, dave = sent["alice"], sent["dave"]
    data = camt054(
        [
            (alice, "AC04", datetime.date(2027, 1, 12), "7.50"),
            (dave, "MD06", datetime.date(2027, 2, 10), "0.00"),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_bytes(data, file_name="camt.xml")
    assert outcome.applied == 2 and outcome.mandates_ended == 1 and outcome.late_refunds == 0
    assert DebitReturn.objects.get(debit=alice).kind == ReturnKind.RETURN
    fee = LedgerEntry.objects.get(member=alice.member, kind=LedgerKind.FEE)
    assert fee.amount == Decimal("7.50")
    # A closed account (AC04) ends the mandate: no debit will be presented on it any more.
    assert Mandate.objects.get(pk=alice.mandate_id).ended_at is not None
    refund = LedgerEntry.objects.get(member=dave.member, kind=LedgerKind.REFUND)
    assert refund.amount == dave.amount
    assert Debit.objects.get(pk=dave.pk).status == DebitStatus.REFUNDED
    assert "remboursé" in mail.outbox[1].body


def test_a_refund_asked_after_eight_weeks_is_booked_and_flagged(sent):
    late = datetime.date(2027, 3, 10)  # more than 8 weeks after 5 January
    outcome = import_bytes(camt054([(sent["dave"], "MD06", late, "0")]), file_name="late.xml")
    assert outcome.late_refunds == 1
    assert "à contester" in DebitReturn.objects.get(debit=sent["dave"]).note


def test_the_csv_fallback(sent):
    alice = sent["alice"]
    amount = f"{alice.amount}".replace(".", ",")
    data = (
        "reference;motif;montant;date;nature;frais\n"
        f"{alice.end_to_end_id};MS02;{amount};07/01/2027;rejet;2,50\n"
    )
    outcome = import_bytes(("\ufeff" + data).encode(), file_name="retours.csv")
    assert outcome.applied == 1
    assert LedgerEntry.objects.get(member=alice.member, kind=LedgerKind.FEE).amount == Decimal(
        "2.50"
    )


def test_a_whole_remittance_rejected_by_the_bank(sent):
    data = pain002(sent["batch"], [], group_status="RJCT")
    data = data.replace(b"<GrpSts>RJCT</GrpSts>", b"<GrpSts>RJCT</GrpSts>")
    outcome = import_bytes(data, file_name="rjct.xml")
    assert outcome.applied == 2
    assert set(Debit.objects.values_list("status", flat=True)) == {DebitStatus.REJECTED}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "vide"),
        (b"<Document><oops></Document>", "bien form"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"/>',
            "entités",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
            b"<CstmrCdtTrfInitn/></Document>",
            "seuls les rapports",
        ),
        (b"\x00\x01binary", "non reconnu"),
        (b"nom;prenom\nMartin;Alice\n", "Format non reconnu"),
    ],
)
def test_a_malformed_or_foreign_file_is_refused_whole(sent, data, message):
    with pytest.raises(ReturnFileError, match=message):
        import_bytes(data, file_name="x")
    assert not ReturnFile.objects.exists() and not DebitReturn.objects.exists()


def test_one_bad_line_refuses_the_whole_file(sent):
    alice, dave = sent["alice"], sent["dave"]
    data = pain002(sent["batch"], [(alice, "AM04"), (dave, "ZZ99")])
    with pytest.raises(ReturnFileError, match="ZZ99"):
        import_bytes(data, file_name="x.xml")
    unknown = pain002(sent["batch"], [(alice, "AM04")]).replace(
        alice.end_to_end_id.encode(), b"NOT-OURS"
    )
    with pytest.raises(ReturnFileError, match="pas le nôtre"):
        import_bytes(unknown, file_name="y.xml")
    wrong_amount = pain002(sent["batch"], [(alice, "AM04")]).replace(
        f">{alice.amount}<".encode(), b">1.00<"
    )
    with pytest.raises(ReturnFileError, match=r"annonce 1\.00"):
        import_bytes(wrong_amount, file_name="z.xml")
    assert not DebitReturn.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REJECTION).exists()
    assert Debit.objects.get(pk=alice.pk).status == DebitStatus.SENT


def test_the_command_reports_in_french_and_fails_on_a_refused_file(sent, tmp_path, capsys):
    good = tmp_path / "sts.xml"
    good.write_bytes(pain002(sent["batch"], [(sent["alice"], "AM04")]))
    call_command("import_sepa_returns", str(good))
    assert "1 retour enregistré" in capsys.readouterr().out
    call_command("import_sepa_returns", str(good))
    assert "déjà importé" in capsys.readouterr().out
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<nope")
    with pytest.raises(CommandError, match="refusé"):
        call_command("import_sepa_returns", str(bad))
    assert "Rien n'a été importé" in capsys.readouterr().err
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_sepa_returns", str(tmp_path / "absent.xml"))


# --- Checked against the official schemas -----------------------------------------------------


@pytest.mark.parametrize(
    "namespace", ["pain.002.001.03", "pain.002.001.08", "camt.054.001.02", "camt.054.001.08"]
)
def test_a_report_of_a_version_with_its_schema_is_validated_then_read(sent, namespace):
    if namespace.startswith("pain"):
        data = pain002(sent["batch"], [(sent["alice"], "AM04")], version=namespace)
    else:
        data = camt054([(sent["dave"], "MD06", JAN, "2.50")], version=namespace)
    # The file is the standard's: lxml, against the XSD shipped, says so on its own.
    schema = etree.XMLSchema(etree.parse(str(parse.SCHEMAS / f"{namespace}.xsd")))
    schema.assertValid(etree.fromstring(data))
    report = parse.read(data)
    assert (report.version, report.validated) == (namespace, True)
    with on(datetime.date(2027, 2, 10)):
        outcome = import_bytes(data, file_name="x.xml")
    assert outcome.applied == 1
    assert outcome.checked() == f"conforme au schéma officiel {namespace}"
    events = Event.objects.filter(tag="billing:returns:import")
    (file_event,) = [e.details for e in events if "format" in e.details]
    assert file_event["version"] == namespace and file_event["validated"] is True


def test_a_version_without_its_schema_is_read_and_said_unchecked(sent, tmp_path, capsys):
    data = pain002(sent["batch"], [(sent["alice"], "AM04")], version="pain.002.001.10")
    report = parse.read(data)
    assert (report.version, report.validated) == ("pain.002.001.10", False)
    path = tmp_path / "sts.xml"
    path.write_bytes(data)
    with on(datetime.date(2027, 1, 7)):
        call_command("import_sepa_returns", str(path))
    assert (
        "(version pain.002.001.10 : lue sans contrôle par son schéma officiel, non fourni)"
        in capsys.readouterr().out
    )


def test_a_report_against_its_schema_is_refused_whole_naming_the_line_never_a_value(sent):
    """The bank's file breaks its schema: refused before anything is read, in French, with the
    line and the element; the value at fault (an account number, say) is not repeated."""
    iban = "FR7630006000011234567890189"
    missing = re.sub(rb"<BkTxCd>.*?</BkTxCd>", b"", camt054([(sent["dave"], "MD06", JAN, "0")]))
    too_long = pain002(sent["batch"], [(sent["alice"], "AM04")], message=iban * 2)
    with pytest.raises(ReturnFileError) as refused:
        import_bytes(missing, file_name="x.xml")
    assert re.fullmatch(
        r"Le fichier ne respecte pas le schéma officiel camt\.054\.001\.08 : ligne \d+, "
        r"élément NtryDtls : élément inattendu à cet endroit \(attendu : [A-Za-z, ]*BkTxCd\)\.",
        str(refused.value),
    )
    with pytest.raises(ReturnFileError, match=r"ligne 3, élément MsgId : valeur non conforme\."):
        import_bytes(too_long, file_name="y.xml")
    with pytest.raises(ReturnFileError) as refused:
        import_bytes(too_long, file_name="y.xml")
    assert iban not in str(refused.value) and "FR76" not in str(refused.value)
    assert not ReturnFile.objects.exists() and not DebitReturn.objects.exists()


def _imported_at_once(monkeypatch, files: list[bytes], day=datetime.date(2027, 1, 7)) -> list:
    """Import ``files`` in two threads (two connections), each past the "already imported?"
    check and the matching before either writes; their outcomes."""
    both_checked = threading.Barrier(2)
    passed: set[int] = set()
    match = apply._match

    def matched(report):
        pairs = match(report)
        if threading.get_ident() not in passed:  # the first reading of each session
            passed.add(threading.get_ident())
            both_checked.wait(timeout=10)
        return pairs

    monkeypatch.setattr(apply, "_match", matched)
    outcomes, errors = [], []

    def run(data):
        try:
            outcomes.append(import_bytes(data, file_name="x.xml"))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    with on(day):
        threads = [threading.Thread(target=run, args=(data,)) for data in files]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_report_imported_twice_at_once_is_applied_once(sent, monkeypatch):
    """The page and the command import one file at the same instant: both pass the "already
    imported?" check, one commits, the other is told it is known — no error, one return."""
    data = pain002(sent["batch"], [(sent["alice"], "AM04")])
    outcomes = _imported_at_once(monkeypatch, [data, data])
    assert sorted((o.applied, o.already) for o in outcomes) == [(0, True), (1, False)]
    assert DebitReturn.objects.count() == 1 and ReturnFile.objects.count() == 1


def test_a_file_libxml2_will_not_read_is_refused_in_french(sent):
    deep = pain002(sent["batch"], [(sent["alice"], "AM04")]).replace(
        b"</CstmrPmtStsRpt>", b"<X>" * 300 + b"</X>" * 300 + b"</CstmrPmtStsRpt>"
    )
    with pytest.raises(ReturnFileError, match="dépasse les limites de lecture"):
        import_bytes(deep, file_name="x.xml")
    assert not ReturnFile.objects.exists()


@pytest.mark.parametrize(
    "old, new",
    [
        # A value shaped like libxml2's own "Expected is (…)" of a content error.
        (b"<GrpSts>PART</GrpSts>", b"<GrpSts>Expected is (FR7630006000011234567890189)</GrpSts>"),
        # An element named like an account number.
        (b"<GrpSts>PART</GrpSts>", b"<FR7630006000011234567890189/><GrpSts>PART</GrpSts>"),
    ],
)
def test_nothing_of_the_file_but_the_schema_s_names_reaches_the_message(sent, old, new):
    data = pain002(sent["batch"], [(sent["alice"], "AM04")], version="pain.002.001.03")
    with pytest.raises(ReturnFileError) as refused:
        import_bytes(data.replace(old, new), file_name="x.xml")
    assert "FR76" not in str(refused.value)
    assert "ligne 5" in str(refused.value), "the line of the element at fault"


def test_reports_checked_in_several_threads_at_once_get_their_own_answers(sent):
    """One schema object serves the process's threads (a threaded server): each validation
    reads its own error, none another's or none."""
    good = pain002(sent["batch"], [(sent["alice"], "AM04")])
    files = {
        "GrpSts": good.replace(b"<GrpSts>PART</GrpSts>", b"<GrpSts>TOOLONG</GrpSts>"),
        "MsgId": good.replace(b"<MsgId>STS-1</MsgId>", b"<MsgId>" + b"Z" * 40 + b"</MsgId>"),
    }
    parse._SCHEMAS.clear()  # both threads load the schema for the first time, too
    start, wrong = threading.Barrier(2), []

    def check(element, data):
        start.wait(timeout=10)
        for _ in range(40):
            try:
                parse.read(data)
                wrong.append("accepted")
            except ReturnFileError as error:
                if f"élément {element} :" not in str(error):
                    wrong.append(str(error))
            except Exception as error:  # reported below
                wrong.append(repr(error))

    threads = [threading.Thread(target=check, args=item) for item in files.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reports_of_the_same_returns_in_opposite_orders_at_once_apply_them_once(
    sent, monkeypatch
):
    """Two different reports name Alice's and Dave's rejections, in opposite orders, imported
    at the same instant: no deadlock, each return recorded once, the second report's known."""
    pair = [(sent["alice"], "AM04"), (sent["dave"], "AM04")]
    files = [
        pain002(sent["batch"], pair, message="STS-A"),
        pain002(sent["batch"], pair[::-1], message="STS-B"),
    ]
    outcomes = _imported_at_once(monkeypatch, files)
    assert sorted((o.applied, o.known) for o in outcomes) == [(0, 2), (2, 0)]
    assert DebitReturn.objects.count() == 2 and ReturnFile.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reports_ending_the_same_mandates_in_opposite_orders_at_once_both_apply(
    sent, monkeypatch, tmp_path
):
    """January's report closes Alice's then Dave's account (AC04), February's Dave's then
    Alice's — different debits, the same mandates, imported at the same instant: no deadlock,
    all four returns recorded."""
    february = datetime.date(2027, 2, 5)
    cycle_on(datetime.date(2027, 1, 20))
    later = batch_on(february, tmp_path).batch
    alice, dave = sent["alice"], sent["dave"]
    alice2, dave2 = (Debit.objects.get(batch=later, member=d.member) for d in (alice, dave))
    files = [
        pain002(sent["batch"], [(alice, "AC04"), (dave, "AC04")], message="STS-JAN"),
        pain002(later, [(dave2, "AC04"), (alice2, "AC04")], message="STS-FEB", day=february),
    ]
    outcomes = _imported_at_once(monkeypatch, files, day=datetime.date(2027, 2, 7))
    assert sorted(o.applied for o in outcomes) == [2, 2]
    assert DebitReturn.objects.count() == 4
