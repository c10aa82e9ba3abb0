"""The fixed-width records of the affiliation exchange (docs/scheme_exchange.md).

Modelled on the inter-scheme NOEMIE link: ASCII records of :data:`WIDTH` characters, each
ended by a line feed, a header first and a trailer last. The trailer counts the records and
carries the SHA-256 of every byte before it, so a truncated or altered file is refused. Each
layout is a list of fields (name, width, kind); rendering and parsing read the same list, so
the documentation, the writer and the reader cannot disagree.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass

WIDTH = 128
ENCODING = "ascii"
OUTBOUND_FORMAT = "MTLAFF"
ACK_FORMAT = "MTLARL"
VERSION = "01"

HEADER, AFFILIATION, NOTICE, ACK_LINE, TRAILER = "000", "100", "190", "200", "999"


class FormatError(ValueError):
    """A file that does not follow the format (French message naming the line)."""


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    kind: str = "text"  # text, digits, date, datetime, hex
    optional: bool = False  # may be blank (text fields always may)


def _layout(*fields: Field) -> tuple[Field, ...]:
    assert sum(f.width for f in fields) <= WIDTH, fields
    return fields


LAYOUTS: dict[tuple[str, str], tuple[Field, ...]] = {
    (OUTBOUND_FORMAT, HEADER): _layout(
        Field("type", 3, "digits"),
        Field("format", 6),
        Field("version", 2, "digits"),
        Field("sender", 9, "digits"),  # the mutuelle's number as a complementary insurer
        Field("receiver", 5, "digits"),  # the scheme organisation: grand régime + caisse
        Field("sequence", 6, "digits"),
        Field("created_at", 14, "datetime"),
        Field("as_of", 8, "date"),
    ),
    (OUTBOUND_FORMAT, AFFILIATION): _layout(
        Field("type", 3, "digits"),
        Field("line", 7, "digits"),
        Field("nir", 15),  # the person's NIR, or that of the insured they are attached to
        Field("birth_date", 8, "date"),
        Field("rank", 1, "digits"),  # twins attached to one NIR and one birth date: 1, 2…
        Field("regime", 2, "digits"),
        Field("caisse", 3, "digits"),
        Field("centre", 4, "digits", optional=True),  # blank when the person's is unknown
        Field("contract", 10),
        Field("start", 8, "date", optional=True),
        Field("end", 8, "date", optional=True),  # blank: open-ended
        Field("status", 1),  # C covered, S suspended, R terminated, N not yet covered
        Field("quality", 1),  # A member, C spouse, P partner, E child
    ),
    (OUTBOUND_FORMAT, NOTICE): _layout(
        Field("type", 3, "digits"),
        Field("line", 7, "digits"),
        Field("nature", 1),  # R rectification, E erasure
        Field("reference", 13, "digits"),  # an earlier line: its file sequence and line number
        Field("date", 8, "date"),
    ),
    (OUTBOUND_FORMAT, TRAILER): _layout(
        Field("type", 3, "digits"),
        Field("affiliations", 7, "digits"),
        Field("notices", 7, "digits"),
        Field("records", 7, "digits"),
        Field("sha256", 64, "hex"),
    ),
    (ACK_FORMAT, HEADER): _layout(
        Field("type", 3, "digits"),
        Field("format", 6),
        Field("version", 2, "digits"),
        Field("sender", 5, "digits"),  # the scheme organisation
        Field("receiver", 9, "digits"),  # the mutuelle
        Field("sequence", 6, "digits"),  # the outbound file acknowledged
        Field("file_sha256", 64, "hex"),  # its SHA-256
        Field("created_at", 14, "datetime"),
    ),
    (ACK_FORMAT, ACK_LINE): _layout(
        Field("type", 3, "digits"),
        Field("line", 7, "digits"),  # the outbound line acknowledged
        Field("result", 1),  # A accepted, R rejected
        Field("code", 3),  # the reject code, blank when accepted
        Field("label", 60),  # the reject reason, in French
    ),
    (ACK_FORMAT, TRAILER): _layout(
        Field("type", 3, "digits"),
        Field("accepted", 7, "digits"),
        Field("rejected", 7, "digits"),
        Field("records", 7, "digits"),
        Field("sha256", 64, "hex"),
    ),
}

# What a field's text (trailing spaces removed) must match. A number, a date or a hash is
# never blank unless its field is optional: ``int("")`` must never be reached.
_PATTERNS = {
    "digits": r"\d+",
    "date": r"\d{8}",
    "datetime": r"\d{14}",
    "hex": r"[0-9a-f]{64}",
    "text": r"[\x20-\x7e]*",
}
_CALENDAR = {"date": "%Y%m%d", "datetime": "%Y%m%d%H%M%S"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y%m%d")
    return str(value)


def render(file_format: str, record_type: str, **values) -> str:
    """One record, padded to :data:`WIDTH`, with its line feed."""
    parts = []
    for spec in LAYOUTS[(file_format, record_type)]:
        value = record_type if spec.name == "type" else values.get(spec.name)
        text = _text(value)
        if spec.kind == "digits" and text:
            text = text.zfill(spec.width)
        if len(text) > spec.width or not text.isascii():
            raise ValueError(f"{record_type}.{spec.name}: {spec.width} ASCII characters at most")
        parts.append(text.ljust(spec.width))
    return "".join(parts).ljust(WIDTH) + "\n"


def parse(file_format: str, record: str, number: int) -> dict[str, str]:
    """The fields of one record (without its line feed), or :class:`FormatError`."""
    if len(record) != WIDTH:
        raise FormatError(f"Ligne {number} : {len(record)} caractères au lieu de {WIDTH}.")
    record_type = record[:3]
    layout = LAYOUTS.get((file_format, record_type))
    if layout is None:
        raise FormatError(f"Ligne {number} : type d'enregistrement inconnu « {record_type} ».")
    values, position = {}, 0
    for spec in layout:
        text = record[position : position + spec.width].rstrip()
        position += spec.width
        if not text and spec.kind != "text" and not spec.optional:
            raise FormatError(f"Ligne {number} : champ « {spec.name} » vide.")
        if text and not re.fullmatch(_PATTERNS[spec.kind], text):
            raise FormatError(f"Ligne {number} : champ « {spec.name} » invalide.")
        if text and spec.kind in _CALENDAR:
            try:
                datetime.datetime.strptime(text, _CALENDAR[spec.kind])
            except ValueError:
                raise FormatError(
                    f"Ligne {number} : champ « {spec.name} » : date impossible."
                ) from None
        values[spec.name] = text
    if record[position:].strip():
        raise FormatError(f"Ligne {number} : caractères au-delà des champs de l'enregistrement.")
    return values


def parse_date(text: str) -> datetime.date | None:
    return datetime.datetime.strptime(text, "%Y%m%d").date() if text else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_records(data: bytes, file_format: str) -> list[tuple[int, dict[str, str]]]:
    """Every record of a file, checked: ASCII, header first, trailer last with the right
    counts and the SHA-256 of what precedes it. Returns ``[(line number, fields), …]``."""
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError:
        raise FormatError("Le fichier contient des caractères non ASCII.") from None
    if not text.endswith("\n"):
        raise FormatError("Le fichier est tronqué : sa dernière ligne n'est pas terminée.")
    lines = text[:-1].split("\n")
    if len(lines) < 2:
        raise FormatError("Le fichier doit compter au moins un en-tête et une fin de fichier.")
    records = [(n, parse(file_format, line, n)) for n, line in enumerate(lines, start=1)]
    header, trailer = records[0][1], records[-1][1]
    if header["type"] != HEADER or header["format"] != file_format:
        raise FormatError(f"Ligne 1 : en-tête {file_format} attendu.")
    if header["version"] != VERSION:
        raise FormatError(f"Ligne 1 : version {header['version']} non prise en charge.")
    if trailer["type"] != TRAILER:
        raise FormatError(f"Ligne {len(lines)} : fin de fichier (999) attendue.")
    if any(fields["type"] in (HEADER, TRAILER) for _, fields in records[1:-1]):
        raise FormatError("Un en-tête ou une fin de fichier figure au milieu du fichier.")
    if int(trailer["records"]) != len(records):
        raise FormatError(
            f"La fin de fichier annonce {int(trailer['records'])} enregistrements, le fichier en "
            f"compte {len(records)}."
        )
    body = data[: len(data) - WIDTH - 1]
    if sha256(body) != trailer["sha256"]:
        raise FormatError("L'empreinte SHA-256 de la fin de fichier ne correspond pas au contenu.")
    return records


def trailer(file_format: str, body: bytes, records: int, **counts) -> str:
    return render(file_format, TRAILER, records=records, sha256=sha256(body), **counts)
