"""The pain.008 document: sepaxml's transactions taken out one by one are those sepaxml itself
exports, written byte for byte as ElementTree would, and a file that breaks the XSD is refused.
If a release of sepaxml changes the hook these rely on, these tests fail first."""

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from sepaxml import SepaDD

from mutualis.billing.sepa import document

CREDITOR = document.Creditor(
    "Mutuelle des assurés sociaux", "FR7630006000011234567890189", "AGRIFRPPXXX", "FR72ZZZ123456"
)
DAY = datetime.date(2027, 2, 5)
TX = document.Transaction(
    end_to_end_id="E2E-1",
    amount=Decimal("84.30"),
    mandate_reference="RUM-1",
    mandate_signed_on=datetime.date(2026, 1, 3),
    debtor_name="Élodie Müller & fils <SARL>",
    iban="FR1420041010050500013M02606",
    bic="",
    remittance='Cotisations 02/2027 "confort"',
)


@pytest.mark.parametrize("schema", ["pain.008.001.08", "pain.008.001.02"])
def test_a_transaction_taken_out_is_the_one_sepaxml_exports(schema):
    ours = document.TransactionBuilder(CREDITOR, schema).element(
        TX, sequence_type="RCUR", collection_date=DAY
    )
    config = {
        "name": CREDITOR.name,
        "IBAN": CREDITOR.iban,
        "BIC": CREDITOR.bic,
        "batch": True,
        "creditor_id": CREDITOR.identifier,
        "currency": "EUR",
    }
    theirs = SepaDD(config, schema=schema, clean=True)
    theirs.add_payment(
        {
            "name": TX.debtor_name,
            "IBAN": TX.iban,
            "amount": 8430,
            "type": "RCUR",
            "collection_date": DAY,
            "mandate_id": TX.mandate_reference,
            "mandate_date": TX.mandate_signed_on,
            "description": TX.remittance,
            "endtoend_id": TX.end_to_end_id,
        }
    )
    exported = ET.fromstring(theirs.export(validate=False))  # noqa: S314 - our own bytes
    [tx] = [e for e in exported.iter() if e.tag.endswith("DrctDbtTxInf")]
    for element in tx.iter():
        element.tag = element.tag.split("}", 1)[-1]
    assert ET.tostring(ours) == ET.tostring(tx)


def test_the_writer_gives_the_bytes_elementtree_gives():
    builder = document.TransactionBuilder(CREDITOR, "pain.008.001.08")
    amended = document.Transaction(
        **{**TX.__dict__, "original_iban": "FR7630006000011234567890189", "new_bank": True}
    )
    for tx in (TX, amended):
        element = builder.element(tx, sequence_type="FRST", collection_date=DAY)
        element.find(".//Ustrd").text = 'a & b < c > d "e"\ttab'  # every character to escape
        element.find(".//InstdAmt").set("Ccy", 'E"U\nR')
        assert document._text(element) == ET.tostring(element, encoding="unicode").encode()


def _write(tmp_path, transactions):
    header = document.Header("PRLV-TEST", datetime.datetime(2027, 2, 3, 6), DAY, "pain.008.001.08")
    group = document.Group("RCUR", len(transactions), sum(t.amount for t in transactions))
    path = tmp_path / "f.xml"
    with open(path, "wb") as out:
        document.write(
            out,
            header=header,
            creditor=CREDITOR,
            groups=[group],
            transactions=lambda k: transactions,
        )
    return path


def test_a_file_that_breaks_the_schema_is_refused(tmp_path):
    path = _write(tmp_path, [TX])
    assert document.validate(path, "pain.008.001.08") == 1
    text = path.read_text().replace("<SeqTp>RCUR</SeqTp>", "<SeqTp>XXXX</SeqTp>")
    path.write_text(text)
    with pytest.raises(document.InvalidDocument, match="pas conforme"):
        document.validate(path, "pain.008.001.08")


def test_a_header_count_that_differs_from_the_transactions_is_refused(tmp_path):
    header = document.Header("PRLV-TEST", datetime.datetime(2027, 2, 3, 6), DAY, "pain.008.001.08")
    with open(tmp_path / "f.xml", "wb") as out, pytest.raises(document.InvalidDocument):
        document.write(
            out,
            header=header,
            creditor=CREDITOR,
            groups=[document.Group("RCUR", 2, Decimal("168.60"))],
            transactions=lambda kind: [TX],
        )


def test_entities_in_a_file_are_not_expanded(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08">&b;</Document>'
    )
    with pytest.raises(document.InvalidDocument):
        document.validate(path, "pain.008.001.08")
