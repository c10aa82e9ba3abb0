"""The pain.008 file of a batch, written as a stream and checked against the message's XSD.

``sepaxml`` builds each transaction (``DrctDbtTxInf``) the way the EPC rulebook wants it for the
chosen message version (BIC or BICFI, "NOTPROVIDED" without a BIC, the characters the SEPA
character set allows). Its :class:`~sepaxml.SepaDD` keeps a whole document in memory, which a
batch of a million debits cannot afford: :class:`TransactionBuilder` hands each finished
transaction over instead (it overrides one hook of sepaxml's, ``_add_to_batch_list``; the test
``billing/tests/test_sepa_document.py`` compares its output with sepaxml's own export and fails
loudly if a release of sepaxml changes it). The envelope — group header and one payment
information block per sequence type, whose counts and sums are computed by the database first —
is written around them, so memory stays flat in the number of debits.

Amendments (a new account, a new mandate reference) are added to the mandate information of the
transaction as the rulebook asks: ``AmdmntInd`` and ``AmdmntInfDtls`` (``OrgnlMndtId``,
``OrgnlDbtrAcct``, or ``OrgnlDbtrAgt`` "SMNDA" for a new bank).

The file is validated against the XSD shipped with sepaxml, by lxml reading it as a stream,
before it may be released. Nothing in it depends on when it is written: a rerun for the same
batch writes the same bytes.
"""

from __future__ import annotations

import datetime
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

import sepaxml
from lxml import etree
from sepaxml import SepaDD
from text_unidecode import unidecode

SCHEMAS = Path(sepaxml.__file__).resolve().parent / "schemas"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:{}"
SEQUENCE_ORDER = ("FRST", "RCUR", "FNAL", "OOFF")
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"}


class InvalidDocument(ValueError):
    """The file written does not validate against its XSD: it must not be released."""


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    identifier: str  # ICS


@dataclass(frozen=True)
class Header:
    message_id: str
    created_at: datetime.datetime  # local time, no zone (ISODateTime)
    collection_date: datetime.date
    schema: str  # "pain.008.001.08" or "pain.008.001.02"


@dataclass(frozen=True)
class Group:
    sequence_type: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class Transaction:
    end_to_end_id: str
    amount: Decimal
    mandate_reference: str
    mandate_signed_on: datetime.date
    debtor_name: str
    iban: str
    bic: str
    remittance: str
    original_mandate_reference: str = ""
    original_iban: str = ""  # a new account at the same bank
    new_bank: bool = False  # "SMNDA": same mandate, new debtor agent


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def decimal_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


class TransactionBuilder(SepaDD):
    """sepaxml's direct debit document, each finished transaction taken out as it is built."""

    def __init__(self, creditor: Creditor, schema: str) -> None:
        config = {
            "name": creditor.name,
            "IBAN": creditor.iban,
            "batch": True,
            "creditor_id": creditor.identifier,
            "currency": "EUR",
        }
        if creditor.bic:
            config["BIC"] = creditor.bic
        self._finished: list[ET.Element] = []
        super().__init__(config, schema=schema, clean=True)

    def _add_to_batch_list(self, TX, payment):
        self._finished.append(TX["DrctDbtTxInfNode"])

    def element(self, tx: Transaction, *, sequence_type: str, collection_date) -> ET.Element:
        payment = {
            "name": tx.debtor_name,
            "IBAN": tx.iban,
            "amount": cents(tx.amount),
            "type": sequence_type,
            "collection_date": collection_date,
            "mandate_id": tx.mandate_reference,
            "mandate_date": tx.mandate_signed_on,
            "description": tx.remittance,
            "endtoend_id": tx.end_to_end_id,
        }
        if tx.bic:
            payment["BIC"] = tx.bic
        self.add_payment(payment)
        element = self._finished.pop()
        _add_amendment(element, tx)
        return element


def _el(tag: str, text: str | None = None, *children: ET.Element) -> ET.Element:
    element = ET.Element(tag)
    if text is not None:
        element.text = text
    element.extend(children)
    return element


def _add_amendment(element: ET.Element, tx: Transaction) -> None:
    if not (tx.original_mandate_reference or tx.original_iban or tx.new_bank):
        return
    mandate = element.find("DrctDbtTx/MndtRltdInf")
    if mandate is None:  # pragma: no cover - sepaxml always builds it
        raise InvalidDocument("sepaxml built a transaction without its mandate information")
    details = _el("AmdmntInfDtls")
    if tx.original_mandate_reference:
        details.append(_el("OrgnlMndtId", tx.original_mandate_reference))
    if tx.original_iban:
        details.append(_el("OrgnlDbtrAcct", None, _el("Id", None, _el("IBAN", tx.original_iban))))
    if tx.new_bank:
        details.append(
            _el(
                "OrgnlDbtrAgt", None, _el("FinInstnId", None, _el("Othr", None, _el("Id", "SMNDA")))
            )
        )
    position = [child.tag for child in mandate].index("DtOfSgntr") + 1
    mandate.insert(position, _el("AmdmntInd", "true"))
    mandate.insert(position + 1, details)


def _text(element: ET.Element) -> bytes:
    """The element as UTF-8 XML, as ``ET.tostring`` writes it for these trees (no namespaces,
    no tails, no comments): ElementTree's general serializer is the costliest step of a large
    batch, so this one, for what sepaxml builds, walks the tree once
    (``billing/tests/test_sepa_document.py`` checks both give the same bytes)."""
    parts: list[str] = []
    _serialize(element, parts)
    return "".join(parts).encode("utf-8")


def _serialize(element: ET.Element, parts: list[str]) -> None:
    tag = element.tag
    attributes = "".join(
        f' {name}="{escape(value, _ATTRIBUTE)}"' for name, value in element.attrib.items()
    )
    text = element.text
    if text is None and not len(element):
        parts.append(f"<{tag}{attributes} />")
        return
    parts.append(f"<{tag}{attributes}>")
    if text:
        parts.append(escape(text))
    for child in element:
        _serialize(child, parts)
    parts.append(f"</{tag}>")


def _name(value: str) -> str:
    return unidecode(value)[:70]


def group_header(header: Header, creditor: Creditor, groups: list[Group]) -> ET.Element:
    return _el(
        "GrpHdr",
        None,
        _el("MsgId", header.message_id),
        _el("CreDtTm", header.created_at.replace(microsecond=0).isoformat()),
        _el("NbOfTxs", str(sum(g.count for g in groups))),
        _el("CtrlSum", decimal_text(sum((g.total for g in groups), Decimal("0")))),
        _el(
            "InitgPty",
            None,
            _el("Nm", _name(creditor.name)),
            _el("Id", None, _el("OrgId", None, _el("Othr", None, _el("Id", creditor.identifier)))),
        ),
    )


def payment_information(header: Header, creditor: Creditor, group: Group) -> list[ET.Element]:
    """The fields of one payment information block, before its transactions."""
    if creditor.bic:
        tag = "BIC" if header.schema == "pain.008.001.02" else "BICFI"
        agent = _el("FinInstnId", None, _el(tag, creditor.bic))
    else:
        agent = _el("FinInstnId", None, _el("Othr", None, _el("Id", "NOTPROVIDED")))
    return [
        _el("PmtInfId", f"{header.message_id}-{group.sequence_type}"),
        _el("PmtMtd", "DD"),
        _el("BtchBookg", "true"),
        _el("NbOfTxs", str(group.count)),
        _el("CtrlSum", decimal_text(group.total)),
        _el(
            "PmtTpInf",
            None,
            _el("SvcLvl", None, _el("Cd", "SEPA")),
            _el("LclInstrm", None, _el("Cd", "CORE")),
            _el("SeqTp", group.sequence_type),
        ),
        _el("ReqdColltnDt", header.collection_date.isoformat()),
        _el("Cdtr", None, _el("Nm", _name(creditor.name))),
        _el("CdtrAcct", None, _el("Id", None, _el("IBAN", creditor.iban))),
        _el("CdtrAgt", None, agent),
        _el("ChrgBr", "SLEV"),
        _el(
            "CdtrSchmeId",
            None,
            _el(
                "Id",
                None,
                _el(
                    "PrvtId",
                    None,
                    _el(
                        "Othr",
                        None,
                        _el("Id", creditor.identifier),
                        _el("SchmeNm", None, _el("Prtry", "SEPA")),
                    ),
                ),
            ),
        ),
    ]


def write(
    out: IO[bytes],
    *,
    header: Header,
    creditor: Creditor,
    groups: list[Group],
    transactions: Callable[[str], Iterable[Transaction]],
    progress: Callable[[int], None] | None = None,
) -> str:
    """Write the document to ``out``; returns its SHA-256. ``transactions(sequence_type)``
    yields the transactions of one group, in a stable order."""
    digest = hashlib.sha256()

    def put(data: bytes) -> None:
        digest.update(data)
        out.write(data)

    builder = TransactionBuilder(creditor, header.schema)
    namespace = NAMESPACE.format(header.schema)
    put(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    put(
        f'<Document xmlns="{namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<CstmrDrctDbtInitn>".encode()
    )
    put(_text(group_header(header, creditor, groups)))
    for group in groups:
        put(b"<PmtInf>")
        for field in payment_information(header, creditor, group):
            put(_text(field))
        written = 0
        pending = 0
        for tx in transactions(group.sequence_type):
            element = builder.element(
                tx, sequence_type=group.sequence_type, collection_date=header.collection_date
            )
            put(_text(element))
            written += 1
            pending += 1
            if progress and pending == 1000:
                progress(pending)
                pending = 0
        if progress and pending:
            progress(pending)
        if written != group.count:
            raise InvalidDocument(
                f"{group.sequence_type} : {written} prélèvements écrits pour {group.count} "
                "annoncés dans l'en-tête"
            )
        put(b"</PmtInf>")
    put(b"</CstmrDrctDbtInitn></Document>\n")
    return digest.hexdigest()


@lru_cache(maxsize=4)
def schema_of(version: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / f"{version}.xsd")))


def validate(path: Path, version: str) -> int:
    """Check the file against the official XSD of ``version`` (shipped with sepaxml), reading it
    as a stream; returns the number of transactions. Raises :class:`InvalidDocument`."""
    namespace = NAMESPACE.format(version)
    parser_options = {"resolve_entities": False, "no_network": True, "huge_tree": True}
    count = 0
    try:
        for _event, element in etree.iterparse(
            str(path), events=("end",), schema=schema_of(version), **parser_options
        ):
            if element.tag == f"{{{namespace}}}DrctDbtTxInf":
                count += 1
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        raise InvalidDocument(
            f"le fichier n'est pas conforme au schéma {version} : {error}"
        ) from None
    return count


def iter_sorted(groups: Iterable[Group]) -> Iterator[Group]:
    order = {code: index for index, code in enumerate(SEQUENCE_ORDER)}
    return iter(sorted((g for g in groups if g.count), key=lambda g: order[g.sequence_type]))
