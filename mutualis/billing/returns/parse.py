"""Reading a bank's report on our debits, whole or not at all.

Three formats, recognised from the content:

- **pain.002** (*CstmrPmtStsRpt*, versions .001.03 to .001.10): the status of a remittance; a
  transaction (or a whole remittance) with status ``RJCT`` was rejected before settlement;
- **camt.054** (*BkToCstmrDbtCdtNtfctn*, .001.02 to .001.08): debit notifications of our
  account; a debit entry carrying a return reason is a return after settlement (``MD06``: a
  refund the account holder asked for); charges of the entry are the bank's fee;
- **CSV** (the fallback some banks offer), ``;``-separated with a header line::

      reference;motif;montant;date;nature;frais
      9F0C…;AM04;84,30;05/02/2027;rejet;7,50

  ``reference`` is the end-to-end identifier of the debit, ``nature`` one of ``rejet``,
  ``retour``, ``remboursement`` (optional: ``remboursement`` for MD06, ``rejet`` otherwise),
  ``frais`` optional; dates ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``; amounts with a comma or a point.

XML is parsed by ``defusedxml``: a document type declaration, entities or external references
are refused (no entity expansion, no network). A report whose version has its official schema
in ``schemas/`` (see its README) is then validated against it, whole, before anything in it is
read; one of another version is read by the checks below only (``Report.validated`` is false). Any
line that cannot be read refuses the whole file: :class:`ReturnFileError` says which and why,
in French.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree

from mutualis.billing.models import ReturnKind
from mutualis.billing.returns import codes

MAX_BYTES = 50 * 1024 * 1024
PAIN_002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001."
CAMT_054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001."
SCHEMAS = Path(__file__).resolve().parent / "schemas"


class ReturnFileError(ValueError):
    """The file is refused whole (message in French)."""


@dataclass(frozen=True)
class ReturnLine:
    end_to_end_id: str
    reason_code: str
    amount: Decimal | None  # None: the whole debit (a rejected remittance names no amounts)
    booked_on: datetime.date
    kind: str  # ReturnKind
    fee: Decimal = Decimal("0")
    original_message_id: str = ""


@dataclass(frozen=True)
class Report:
    kind: str  # "pain.002", "camt.054", "csv"
    message_id: str
    lines: list[ReturnLine]
    rejected_messages: tuple[str, ...] = ()  # remittances rejected whole (pain.002 group RJCT)
    version: str = ""  # an XML report's message version, "pain.002.001.08" say
    validated: bool = False  # against the official schema of that version (when shipped)


def read(data: bytes, *, file_name: str = "") -> Report:
    if len(data) > MAX_BYTES:
        raise ReturnFileError("Fichier trop volumineux (50 Mo au plus).")
    if not data.strip():
        raise ReturnFileError("Le fichier est vide.")
    head = data.lstrip()[:200].lstrip(b"\xef\xbb\xbf")
    if head.startswith(b"<"):
        return _xml(data)
    return _csv(data)


# --- XML --------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _xml(data: bytes) -> Report:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ReturnFileError(
            "Le fichier XML déclare un type de document ou des entités : il est refusé par "
            "sécurité."
        ) from None
    except ET.ParseError as error:
        raise ReturnFileError(f"Le fichier n'est pas un XML bien formé ({error}).") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    message = root[0] if len(root) else None
    if _local(root.tag) != "Document" or message is None:
        raise ReturnFileError("Ce fichier XML n'est pas un message ISO 20022.")
    if namespace.startswith(PAIN_002) and _local(message.tag) == "CstmrPmtStsRpt":
        validated = _validate(data, namespace)
        return replace(_pain002(message), version=_version(namespace), validated=validated)
    if namespace.startswith(CAMT_054) and _local(message.tag) == "BkToCstmrDbtCdtNtfctn":
        validated = _validate(data, namespace)
        return replace(_camt054(message), version=_version(namespace), validated=validated)
    raise ReturnFileError(
        f"Message {_local(message.tag)} ({namespace or 'sans espace de noms'}) : seuls les "
        "rapports pain.002 et les avis camt.054 de la banque sont lus ici."
    )


def _version(namespace: str) -> str:
    return namespace.rsplit(":", 1)[-1][:20]


def _validate(data: bytes, namespace: str) -> bool:
    """Validate ``data`` whole against the official schema of its version, when one is
    shipped, before the message is read; whether there was one."""
    version = _version(namespace)
    if not re.fullmatch(r"(pain\.002|camt\.054)\.001\.\d\d", version):
        return False
    # defusedxml has refused any DTD or entity already; lxml is told not to resolve either.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(data, parser)
    except etree.LxmlError:  # what libxml2 will not read (nesting too deep, a text too long)
        raise ReturnFileError(
            "Le fichier XML dépasse les limites de lecture (imbrication trop profonde ou texte "
            "trop long) : ce n'est pas un rapport de banque ordinaire."
        ) from None
    with _SCHEMA_LOCK:  # compiled once, by one thread
        found = _schema(version)
    if found is None:
        return False
    schema, names, lock = found
    # One schema object serves every thread: its error log is its last validation's, so the
    # validation and the reading of its log go together (one version's files at a time).
    with lock:
        if schema.validate(document):
            return True
        error = schema.error_log.filter_from_errors()[0]
        message, line = error.message, error.line
    raise ReturnFileError(
        f"Le fichier ne respecte pas le schéma officiel {version} : "
        + _schema_error(message, line, names)
    )


_SCHEMA_LOCK = threading.Lock()
_SCHEMAS: dict[str, tuple[etree.XMLSchema, frozenset[str], threading.Lock]] = {}


def _schema(version: str) -> tuple[etree.XMLSchema, frozenset[str], threading.Lock] | None:
    """The schema of ``version``, the element names it declares and the lock of its
    validations, compiled once (under ``_SCHEMA_LOCK``); None while ``schemas/`` has no file
    for it."""
    if version not in _SCHEMAS:
        path = SCHEMAS / f"{version}.xsd"
        if not path.exists():
            return None
        tree = etree.parse(str(path))
        declared = tree.iterfind(".//{http://www.w3.org/2001/XMLSchema}element[@name]")
        names = frozenset(e.get("name") for e in declared)
        _SCHEMAS[version] = (etree.XMLSchema(tree), names, threading.Lock())
    return _SCHEMAS[version]


# libxml2's messages: "Element '{ns}Name': …", and for the content of an element, "… This element
# is not expected. Expected is one of ( {ns}A, {ns}B )." or "… Missing child element(s).
# Expected is ( {ns}A )." A value appears in other messages only, quoted.
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z][A-Za-z0-9]*)'")
_CONTENT = re.compile(
    r"Element '[^']*': (This element is not expected|Missing child element\(s\))\. "
    r"Expected is(?: one of)? \(([^()]*)\)\.?\s*"
)


def _schema_error(message: str, line: int, names: frozenset[str]) -> str:
    """The schema's first complaint in French, naming the line and the element — a name the
    schema declares, never anything else of the file (an account number could be there)."""
    found = _ELEMENT.match(message)
    element = f", élément {found.group(1)}" if found and found.group(1) in names else ""
    content = _CONTENT.fullmatch(message)
    if content and content.group(1).startswith("Missing"):
        what = "un élément obligatoire manque"
    elif content:
        what = "élément inattendu à cet endroit"
    elif "not a valid value" in message or "facet" in message:
        what = "valeur non conforme"
    else:
        what = "structure non conforme"
    if content:
        expected = [re.sub(r"^\{[^}]*\}", "", n.strip()) for n in content.group(2).split(",")]
        if expected and all(name in names for name in expected):
            what += f" (attendu : {', '.join(expected)})"
    return f"ligne {line}{element} : {what}."


def _date(text: str, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise ReturnFileError(f"{where} : date illisible ({text!r}).") from None


def _amount(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        raise ReturnFileError(f"{where} : montant illisible ({text!r}).") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ReturnFileError(f"{where} : montant non valable ({text!r}).")
    return value


def _reason(code: str, where: str) -> str:
    code = code.strip().upper()
    if code not in codes.REASONS:
        raise ReturnFileError(f"{where} : code motif {code!r} inconnu.")
    return code


def _pain002(message: ET.Element) -> Report:
    header = _child(message, "GrpHdr")
    message_id = _text(header, "MsgId")
    created = _text(header, "CreDtTm")
    day = _date(created, "En-tête") if created else None
    original = _child(message, "OrgnlGrpInfAndSts")
    original_id = _text(original, "OrgnlMsgId")
    if day is None:
        raise ReturnFileError("En-tête : date de création absente.")
    lines: list[ReturnLine] = []
    rejected_whole: list[str] = []
    group_status = _text(original, "GrpSts")
    for payment in _children(message, "OrgnlPmtInfAndSts"):
        for number, tx in enumerate(_children(payment, "TxInfAndSts"), start=1):
            where = f"Transaction {number}"
            if _text(tx, "TxSts") != "RJCT":
                continue
            reference = _text(tx, "OrgnlEndToEndId")
            if not reference:
                raise ReturnFileError(f"{where} : référence de bout en bout absente.")
            code = _reason(_text(tx, "StsRsnInf", "Rsn", "Cd"), where)
            amount_text = _text(tx, "OrgnlTxRef", "Amt", "InstdAmt")
            lines.append(
                ReturnLine(
                    end_to_end_id=reference,
                    reason_code=code,
                    amount=_amount(amount_text, where) if amount_text else None,
                    booked_on=day,
                    kind=ReturnKind.REJECT,
                    original_message_id=original_id,
                )
            )
    if group_status == "RJCT" and not lines:
        if not original_id:
            raise ReturnFileError("Rejet global sans identifiant de la remise d'origine.")
        rejected_whole.append(original_id)
        code = _reason(_text(original, "StsRsnInf", "Rsn", "Cd") or "MS03", "Rejet global")
        lines.append(
            ReturnLine(
                end_to_end_id="*",
                reason_code=code,
                amount=None,
                booked_on=day,
                kind=ReturnKind.REJECT,
                original_message_id=original_id,
            )
        )
    return Report("pain.002", message_id, lines, tuple(rejected_whole))


def _camt054(message: ET.Element) -> Report:
    message_id = _text(message, "GrpHdr", "MsgId")
    lines: list[ReturnLine] = []
    number = 0
    for notification in _children(message, "Ntfctn"):
        for entry in _children(notification, "Ntry"):
            if _text(entry, "CdtDbtInd") != "DBIT":
                continue  # money received is not a return
            day_text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")
            for details in _children(entry, "NtryDtls"):
                for tx in _children(details, "TxDtls"):
                    number += 1
                    where = f"Opération {number}"
                    code_text = _text(tx, "RtrInf", "Rsn", "Cd")
                    if not code_text:
                        continue  # an ordinary debit of the account, not an R-transaction
                    reference = _text(tx, "Refs", "EndToEndId")
                    if not reference:
                        raise ReturnFileError(f"{where} : référence de bout en bout absente.")
                    code = _reason(code_text, where)
                    amount_text = _text(tx, "AmtDtls", "TxAmt", "Amt") or _text(tx, "Amt")
                    if not amount_text:
                        raise ReturnFileError(f"{where} : montant absent.")
                    fee = _charges(tx, where)
                    lines.append(
                        ReturnLine(
                            end_to_end_id=reference,
                            reason_code=code,
                            amount=_amount(amount_text, where),
                            booked_on=_date(day_text, where),
                            kind=ReturnKind.REFUND if code == codes.REFUND else ReturnKind.RETURN,
                            fee=fee,
                        )
                    )
    return Report("camt.054", message_id, lines)


def _charges(tx: ET.Element, where: str) -> Decimal:
    """The bank's fee on the entry: ``Chrgs/Rcrd/Amt`` (camt.054.001.04 and later) or each
    ``Chrgs/Amt`` (.001.02)."""
    total = Decimal("0")
    for charges in _children(tx, "Chrgs"):
        records = _children(charges, "Rcrd") or [charges]
        for record in records:
            fee_text = _text(record, "Amt")
            if fee_text:
                total += _amount(fee_text, where)
    return total


# --- CSV --------------------------------------------------------------------------------------

COLUMNS = ("reference", "motif", "montant", "date")
KINDS = {
    "rejet": ReturnKind.REJECT,
    "retour": ReturnKind.RETURN,
    "remboursement": ReturnKind.REFUND,
}


def _csv_date(text: str, where: str) -> datetime.date:
    text = text.strip()
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ReturnFileError(f"{where} : date illisible ({text!r} ; JJ/MM/AAAA attendu).")


def _csv(data: bytes) -> Report:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReturnFileError(
            "Ce fichier n'est ni un XML ISO 20022 ni un CSV en UTF-8 : format non reconnu."
        ) from None
    if "\x00" in text:
        raise ReturnFileError("Format non reconnu (fichier binaire).")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ReturnFileError(
            "Format non reconnu : un CSV de retours a les colonnes "
            f"{';'.join(COLUMNS)}[;nature][;frais] (manquantes : {', '.join(missing)})."
        )
    reader.fieldnames = header
    lines = []
    for number, row in enumerate(reader, start=2):
        where = f"Ligne {number}"
        if None in row:
            raise ReturnFileError(f"{where} : trop de colonnes.")
        reference = (row.get("reference") or "").strip()
        if not reference:
            raise ReturnFileError(f"{where} : référence absente.")
        code = _reason(row.get("motif") or "", where)
        nature = (row.get("nature") or "").strip().lower()
        if nature and nature not in KINDS:
            raise ReturnFileError(
                f"{where} : nature {nature!r} inconnue (rejet, retour ou remboursement)."
            )
        kind = (
            KINDS[nature]
            if nature
            else (ReturnKind.REFUND if code == codes.REFUND else ReturnKind.REJECT)
        )
        fee_text = (row.get("frais") or "").strip()
        lines.append(
            ReturnLine(
                end_to_end_id=reference,
                reason_code=code,
                amount=_amount(row.get("montant") or "", where),
                booked_on=_csv_date(row.get("date") or "", where),
                kind=kind,
                fee=_amount(fee_text, where) if fee_text else Decimal("0"),
            )
        )
    if not lines:
        raise ReturnFileError("Le fichier CSV ne contient aucune ligne de retour.")
    return Report("csv", "", lines)
