"""The CSV format of the member import (``manage.py import_members``): reading and parsing.

One row per member. The first line names the columns (any order); the delimiter (``;`` or ``,``)
is taken from that line. UTF-8, with or without a byte-order mark. Dates are ``AAAA-MM-JJ`` or
``JJ/MM/AAAA``. Cells are trimmed. The full description, for the people who produce the file,
is ``docs/import_members.md``; the constants below are the reference.

Columns of the member (required unless marked optional):

- ``legacy_reference``: the legacy system's identifier of the member, 64 characters at most,
  never a NIR or an IBAN. It makes the import idempotent: a row whose reference was already
  imported is skipped.
- identity: ``civility`` (``M`` or ``MME``; ``Monsieur``/``Madame`` accepted), ``last_name``,
  ``first_names``, ``birth_date``;
- contact: ``email``, ``address_line1``, ``address_line2`` (optional), ``postal_code``, ``city``,
  ``phone_landline`` and ``phone_mobile`` (optional);
- administrative: ``nir``, ``scheme_regime`` (2 digits), ``scheme_caisse`` (3),
  ``scheme_centre`` (4), ``scheme_organisation`` (optional);
- contract: ``offer_code``, ``start_date`` (may be in the past), ``cgu_version`` (optional: the
  version of the general terms the member accepted in the legacy system);
- SEPA mandate: ``iban``, ``bic`` (optional), ``debtor_name`` (account holder),
  ``signed_place``.

Beneficiaries (optional): groups of columns ``beneficiary<K>_<field>`` for K = 1, 2, …, with the
fields ``role`` (``spouse``, ``partner``, ``child``; ``conjoint``, ``partenaire``, ``enfant``
accepted), ``civility``, ``last_name``, ``first_names``, ``birth_date``, ``nir`` and ``attached``
(``oui``/``non``: a child attached to the member's NIR, who then has no NIR of their own). A
group present in the header has all its columns; a group left empty on a row is no beneficiary.
A column the format does not know is an error (a misspelt optional column would otherwise be
dropped silently).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from mutualis.contracts.application import (
    Application,
    BeneficiaryApplication,
    PaymentApplication,
    Problem,
)
from mutualis.lib import iban as iso_iban
from mutualis.members import validators
from mutualis.members.models import BeneficiaryRole
from mutualis.members.services import PersonData

ENCODING = "utf-8-sig"  # reads UTF-8 with or without a byte-order mark

MEMBER_COLUMNS = (
    "legacy_reference",
    "civility",
    "last_name",
    "first_names",
    "birth_date",
    "email",
    "address_line1",
    "postal_code",
    "city",
    "nir",
    "scheme_regime",
    "scheme_caisse",
    "scheme_centre",
    "offer_code",
    "start_date",
    "iban",
    "debtor_name",
    "signed_place",
)
OPTIONAL_COLUMNS = (
    "address_line2",
    "phone_landline",
    "phone_mobile",
    "scheme_organisation",
    "cgu_version",
    "bic",
)
BENEFICIARY_FIELDS = (
    "role",
    "civility",
    "last_name",
    "first_names",
    "birth_date",
    "nir",
    "attached",
)
_BENEFICIARY_COLUMN = re.compile(r"beneficiary([1-9]\d?)_([a-z_]+)")

# Lengths the database enforces (PostgreSQL refuses longer values, SQLite would keep them) and
# the form bounds by its own fields; checked here so that a long value rejects its row only.
MAX_LENGTHS = {
    "legacy_reference": 64,
    "email": 254,
    "address_line1": 200,
    "address_line2": 200,
    "city": 100,
    "scheme_organisation": 150,
    "cgu_version": 20,
    "debtor_name": 140,
    "signed_place": 100,
}

CIVILITIES = {
    "m": validators.CIVILITY_MALE,
    "m.": validators.CIVILITY_MALE,
    "mr": validators.CIVILITY_MALE,
    "monsieur": validators.CIVILITY_MALE,
    "mme": validators.CIVILITY_FEMALE,
    "madame": validators.CIVILITY_FEMALE,
}
ROLES = {
    "spouse": BeneficiaryRole.SPOUSE,
    "conjoint": BeneficiaryRole.SPOUSE,
    "partner": BeneficiaryRole.PARTNER,
    "partenaire": BeneficiaryRole.PARTNER,
    "child": BeneficiaryRole.CHILD,
    "enfant": BeneficiaryRole.CHILD,
}
_YES = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
_NO = {"non", "n", "no", "false", "faux", "0", ""}

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class ImportFileError(Exception):
    """The file cannot be imported at all (unreadable, empty, wrong columns). French message."""


@dataclass
class Header:
    """Where each column is, and how many beneficiary groups the file has."""

    index: dict[str, int]
    beneficiary_groups: list[int]
    width: int
    delimiter: str


@dataclass
class ParsedRow:
    """One data row: its application (``None`` when the row could not be read at all) and the
    problems found while reading it (unparsable values), before any rule is checked."""

    line: int
    legacy_reference: str
    application: Application | None
    problems: list[Problem] = field(default_factory=list)
    nirs: list[tuple[str, str]] = field(default_factory=list)  # (column, compact NIR)
    # Number K of the column group of each beneficiary of the application, in order.
    groups: list[int] = field(default_factory=list)

    def column_of(self, problem_field: str) -> str:
        """The CSV column a problem of :func:`check_application` is about."""
        if problem_field.startswith("member."):
            name = problem_field.removeprefix("member.")
            return "scheme_regime/scheme_caisse/scheme_centre" if name == "scheme" else name
        match = re.fullmatch(r"beneficiaries\[(\d+)\]\.(\w+)", problem_field)
        if match:
            group = self.groups[int(match.group(1)) - 1]
            return f"beneficiary{group}_{match.group(2)}"
        if problem_field.startswith("payment."):
            return problem_field.removeprefix("payment.")
        return {"offer": "offer_code"}.get(problem_field, problem_field)


@dataclass
class FileScan:
    """What a first pass over the file learns: row count, digest, in-file duplicates."""

    rows: int
    sha256: str
    # line -> [(column, other lines holding the same NIR)]
    duplicate_nirs: dict[int, list[tuple[str, list[int]]]]
    # line -> first line holding the same legacy reference
    duplicate_references: dict[int, int]


def detect_delimiter(header_line: str) -> str:
    """``;`` or ``,``: column names contain neither, so the header line says which it is."""
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def read_header(path: Path) -> Header:
    """Check the header line; raise :class:`ImportFileError` (French) when it is unusable."""
    try:
        with path.open(encoding=ENCODING, newline="") as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise ImportFileError(f"Fichier introuvable : {path}") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} est un dossier, pas un fichier CSV.") from None
    except PermissionError:
        raise ImportFileError(f"Lecture du fichier refusée : {path}") from None
    except UnicodeDecodeError:
        raise ImportFileError(
            "Le fichier n'est pas encodé en UTF-8 : enregistrez-le en « CSV UTF-8 »."
        ) from None
    if not first.strip():
        raise ImportFileError("Le fichier est vide : la première ligne doit nommer les colonnes.")
    delimiter = detect_delimiter(first)
    names = [name.strip().lower() for name in next(csv.reader([first], delimiter=delimiter))]
    # Unnamed columns (a trailing delimiter, as some spreadsheets write) are ignored.
    duplicates = sorted({name for name in names if name and names.count(name) > 1})
    if duplicates:
        raise ImportFileError(f"Colonnes en double : {', '.join(duplicates)}.")
    known = set(MEMBER_COLUMNS) | set(OPTIONAL_COLUMNS)
    groups: set[int] = set()
    unknown = []
    for name in names:
        match = _BENEFICIARY_COLUMN.fullmatch(name)
        if match and match.group(2) in BENEFICIARY_FIELDS:
            groups.add(int(match.group(1)))
        elif name and name not in known:
            unknown.append(name)
    missing = [name for name in MEMBER_COLUMNS if name not in names]
    for group in sorted(groups):
        missing += [
            f"beneficiary{group}_{name}"
            for name in BENEFICIARY_FIELDS
            if f"beneficiary{group}_{name}" not in names
        ]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"colonnes manquantes : {', '.join(missing)}")
        if unknown:
            parts.append(f"colonnes inconnues : {', '.join(unknown)}")
        raise ImportFileError(
            "En-tête du fichier incorrect — "
            + " ; ".join(parts)
            + ". Aucune ligne n'a été importée (voir docs/import_members.md)."
        )
    return Header(
        index={name: i for i, name in enumerate(names) if name},
        beneficiary_groups=sorted(groups),
        width=len(names),
        delimiter=delimiter,
    )


def iter_records(path: Path, header: Header) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's first line, trimmed cells) for each data row; blank lines are
    skipped. Line 1 is the header."""
    with path.open(encoding=ENCODING, newline="") as handle:
        reader = csv.reader(handle, delimiter=header.delimiter)
        next(reader, None)
        last = reader.line_num
        for cells in reader:
            line, last = last + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield line, [cell.strip() for cell in cells]


def scan(path: Path, header: Header) -> FileScan:
    """First pass: count the rows, hash the file, find NIRs and references given twice.

    Decoding errors surface here, before anything is written. NIRs are kept as salted hashes
    (``hash()``), not in clear, while the pass runs.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                digest.update(chunk)
        nir_columns = ["nir"] + [f"beneficiary{k}_nir" for k in header.beneficiary_groups]
        positions = [(name, header.index[name]) for name in nir_columns]
        ref_at = header.index["legacy_reference"]
        seen_nirs: dict[int, list[tuple[int, str]]] = {}
        seen_refs: dict[str, int] = {}
        duplicate_refs: dict[int, int] = {}
        rows = 0
        for line, cells in iter_records(path, header):
            rows += 1
            for name, at in positions:
                value = cells[at] if at < len(cells) else ""
                if value:
                    key = hash(validators.normalize_nir(value))
                    seen_nirs.setdefault(key, []).append((line, name))
            reference = cells[ref_at] if ref_at < len(cells) else ""
            if reference:
                first = seen_refs.setdefault(reference, line)
                if first != line:
                    duplicate_refs[line] = first
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"Le fichier n'est pas encodé en UTF-8 (octet illisible à la position {exc.start}) :"
            " enregistrez-le en « CSV UTF-8 ». Aucune ligne n'a été importée."
        ) from None
    except csv.Error as exc:
        raise ImportFileError(
            f"Fichier CSV illisible : {exc}. Aucune ligne n'a été importée."
        ) from None
    duplicate_nirs: dict[int, list[tuple[str, list[int]]]] = {}
    for occurrences in seen_nirs.values():
        lines = sorted({line for line, _name in occurrences})
        if len(lines) < 2:
            continue  # twice on one row: check_application reports it
        for line, name in occurrences:
            others = [other for other in lines if other != line]
            duplicate_nirs.setdefault(line, []).append((name, others))
    return FileScan(
        rows=rows,
        sha256=digest.hexdigest(),
        duplicate_nirs=duplicate_nirs,
        duplicate_references=duplicate_refs,
    )


# --- Parsing one row -----------------------------------------------------------------------
def parse_date(value: str) -> datetime.date | None:
    """``AAAA-MM-JJ`` or ``JJ/MM/AAAA``; ``None`` for an empty cell; ``ValueError`` otherwise."""
    if not value:
        return None
    match = _ISO_DATE.fullmatch(value)
    if match:
        year, month, day = match.groups()
    else:
        match = _FRENCH_DATE.fullmatch(value)
        if not match:
            raise ValueError(value)
        day, month, year = match.groups()
    return datetime.date(int(year), int(month), int(day))


_NIR_OR_IBAN_SEPARATORS = re.compile(r"[\s.\-]")
_NIR_SHAPE = re.compile(r"[1-478]\d{4}(\d{2}|2A|2B)\d{8}")
_IBAN_START = re.compile(r"[A-Z]{2}\d{2}")


def looks_like_nir_or_iban(value: str) -> bool:
    """Whether an identifier is in fact a NIR or an IBAN (which must not become a key)."""
    compact = _NIR_OR_IBAN_SEPARATORS.sub("", value).upper()
    if _NIR_SHAPE.fullmatch(compact) and stdnum_nir.is_valid(compact):
        return True
    return bool(_IBAN_START.match(compact)) and iso_iban.is_valid(compact)


_DATE_MESSAGE = "Date illisible : écrivez-la AAAA-MM-JJ ou JJ/MM/AAAA."


_CONTACT_COLUMNS = (
    "email",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "scheme_regime",
    "scheme_caisse",
    "scheme_centre",
    "scheme_organisation",
)
_PHONE_COLUMNS = ("phone_landline", "phone_mobile")
_IDENTITY_COLUMNS = ("civility", "last_name", "first_names", "birth_date", "nir")


class RowParser:
    """Turns the cells of a row into an :class:`Application` (and reading problems).

    Column positions are looked up once, from the header: this runs for every row of the file.
    """

    def __init__(self, header: Header) -> None:
        self.header = header
        index = header.index
        self._reference_at = index["legacy_reference"]
        self._lengths = [
            (name, index[name], limit) for name, limit in MAX_LENGTHS.items() if name in index
        ]
        self._member_identity = [index.get(name) for name in _IDENTITY_COLUMNS]
        self._contact = [(name, index.get(name)) for name in _CONTACT_COLUMNS]
        self._phones = [(name, index.get(name)) for name in _PHONE_COLUMNS]
        self._at = {
            name: index.get(name)
            for name in (
                "offer_code",
                "start_date",
                "iban",
                "bic",
                "debtor_name",
                "signed_place",
                "cgu_version",
            )
        }
        # (prefix, positions of BENEFICIARY_FIELDS) for each group of beneficiary columns.
        self._groups = [
            (
                f"beneficiary{group}_",
                [index[f"beneficiary{group}_{name}"] for name in BENEFICIARY_FIELDS],
            )
            for group in header.beneficiary_groups
        ]

    @staticmethod
    def _get(cells: list[str], at: int | None) -> str:
        return cells[at] if at is not None else ""

    def parse(self, line: int, cells: list[str]) -> ParsedRow:
        at = self._reference_at
        reference = cells[at] if at < len(cells) else ""
        hidden = bool(reference) and looks_like_nir_or_iban(reference)
        if len(cells) != self.header.width:
            return ParsedRow(
                line=line,
                legacy_reference="" if hidden else reference,
                application=None,
                problems=[
                    Problem(
                        "",
                        f"La ligne compte {len(cells)} champs au lieu de {self.header.width} "
                        "(séparateur ou guillemets mal placés ?).",
                    )
                ],
            )
        problems: list[Problem] = []
        if not reference:
            problems.append(Problem("legacy_reference", "La référence ancienne est obligatoire."))
        elif hidden:
            problems.append(
                Problem(
                    "legacy_reference",
                    "La référence ancienne ne peut pas être un numéro de sécurité sociale ni un "
                    "IBAN : utilisez l'identifiant interne de l'ancien système.",
                )
            )
            reference = ""  # never echoed in the report
        for name, at, limit in self._lengths:
            if len(cells[at]) > limit:
                problems.append(Problem(name, f"Ce champ compte {limit} caractères au plus."))

        get = self._get
        member = self._person(
            [get(cells, at) for at in self._member_identity], "", problems, cells=cells
        )
        start_date = self._date(get(cells, self._at["start_date"]), "start_date", problems)
        if start_date is None and not any(p.field == "start_date" for p in problems):
            problems.append(Problem("start_date", "La date d'effet est obligatoire."))
        beneficiaries = []
        for prefix, positions in self._groups:
            values = [cells[at] for at in positions]
            if not any(values):
                continue
            role, attached = values[0], values[6].lower()  # BENEFICIARY_FIELDS order
            if attached not in _YES | _NO:
                problems.append(Problem(prefix + "attached", "Indiquez « oui » ou « non »."))
            beneficiaries.append(
                (
                    prefix,
                    BeneficiaryApplication(
                        role=ROLES.get(role.lower(), role),
                        person=self._person(values[1:6], prefix, problems),
                        attached_to_member_nir=attached in _YES,
                    ),
                )
            )
        at = self._at
        application = Application(
            member=member,
            offer_code=get(cells, at["offer_code"]),
            start_date=start_date or timezone.localdate(),  # placeholder; already reported
            payment=PaymentApplication(
                iban=get(cells, at["iban"]),
                bic=get(cells, at["bic"]),
                debtor_name=get(cells, at["debtor_name"]),
                signed_place=get(cells, at["signed_place"]),
            ),
            beneficiaries=[item for _prefix, item in beneficiaries],
            cgu_version=get(cells, at["cgu_version"]),
            legacy_reference=reference or None,
        )
        nirs = [("nir", member.nir)] if member.nir else []
        nirs += [
            (prefix + "nir", item.person.nir) for prefix, item in beneficiaries if item.person.nir
        ]
        return ParsedRow(
            line=line,
            legacy_reference=reference,
            application=application,
            problems=problems,
            nirs=[(column, validators.normalize_nir(value)) for column, value in nirs],
            groups=[int(prefix[len("beneficiary") : -1]) for prefix, _item in beneficiaries],
        )

    @staticmethod
    def _date(value: str, name: str, problems: list[Problem]) -> datetime.date | None:
        try:
            return parse_date(value)
        except ValueError:
            problems.append(Problem(name, _DATE_MESSAGE))
            return None

    def _person(
        self,
        identity: list[str],
        prefix: str,
        problems: list[Problem],
        *,
        cells: list[str] | None = None,
    ) -> PersonData:
        """``identity``: the cells of _IDENTITY_COLUMNS; ``cells``: the whole row, for the
        member's contact details (a beneficiary has none)."""
        civility, last_name, first_names, birth_date, nir = identity
        data = PersonData(
            civility=CIVILITIES.get(civility.lower(), civility),
            last_name=last_name,
            first_names=first_names,
            birth_date=self._date(birth_date, prefix + "birth_date", problems),
            nir=nir or None,
        )
        if cells is not None:
            for name, at in self._contact:
                setattr(data, name, self._get(cells, at))
            for name, at in self._phones:
                value = self._get(cells, at)
                # Stored in the +33 form; a wrong number stays as given and is reported.
                with contextlib.suppress(ValidationError):
                    value = validators.validate_phone(value) if value else ""
                setattr(data, name, value)
        return data
