"""The access export (GDPR art. 15) and the portability archive (art. 20), from the declaration.

Nothing here lists models. Every model declaration with personal fields and a ``subject_field``
(``mutualis.privacy.registry``) is read, one query per model, for the rows whose subject path
points at the person; a field declared tomorrow is exported tomorrow (architecture.md §4).

Whose rows:

- the person's own, through every declared subject path;
- the data of the member's beneficiaries held under the member's contract: the beneficiaries'
  person rows, and the rows whose subject path goes through ``members.Beneficiary``. A
  beneficiary's own membership, contracts, mandates or correspondence are theirs, not the
  member's, and are never included. Each such record is marked ``held_under_your_contract``.

What each value becomes (GDPR art. 15(3), a copy "in a commonly used electronic form"):

- encrypted fields are decrypted (the person's data key is joined to the row, unwrapped once per
  person by the vault's key cache); once the key is shredded the value is "[donnée effacée]";
- dates and times are ISO 8601 (times in the mutuelle's time zone, with their offset); choices
  read as their French label; relations as a readable name (a related model that holds no
  personal data by its ``str()``, a person by their name, a staff account by its service, any
  other personal record by its id); many-to-many relations as lists; binary content as
  ``{"name", "size"}`` (the bytes are in the portability archive when they are portable);
- blind indexes are listed without their value: they are keyed fingerprints of another field,
  useless to the person, yet they exist and the person is told so; password hashes likewise.

What GDPR art. 15(1) requires of each field (purposes, legal bases, category, recipients,
retention, source) is stated once per field, in the document's ``declaration``, which each
record refers to by its model's and its fields' codes (``docs/rights.md``, "Access export").

Fields declared not personal are never read into the export. A declaration without a subject
path whose model names the person by a declared ``subject_id`` (restrictions of processing) is
read by it; the audit log and the disclosure register have their own sections; the rest is
explained in :data:`NOT_WALKED` (a test fails on any other).

Speed (an export is answered at once, no queue): one query per declared model, plus one per
many-to-many field, the beneficiaries, the audit events, their actors and the disclosures,
whatever the number of rows; on PostgreSQL they go in two pipelined round trips. Queries are
compiled once per process (:mod:`.queries`), each column's conversion to JSON is chosen once per
query (:mod:`.values`, :mod:`.reading`), and the shared blocks of the JSON are laid out once
(:mod:`.render`). Rows are read column by column: a column is converted by one call over its
values, and the values that repeat (a premium's amount, the months of a schedule, a choice's
label, an offer's name) are converted once per distinct value and then looked up; only what
differs on every row (a record's id, a decryption) is worked out per row. Dates and times are
read as SQLite stores them (text it does not parse) and converted from that text.
``bench/rights_access.py`` measures it against raw SQL reads of the same rows.

Modules: :mod:`.labels` (French texts), :mod:`.plan` (what to read, what to say of each field),
:mod:`.queries`, :mod:`.values`, :mod:`.reading`, :mod:`.access` (art. 15), :mod:`.render` (JSON),
:mod:`.page` (HTML), :mod:`.portability` (art. 20).
"""

from mutualis.rights.export.access import build_access_export, information
from mutualis.rights.export.labels import (
    ACCESS_SCHEMA,
    FIELD_LABELS,
    GENERATED,
    INDEX_WITHHELD,
    NOT_WALKED,
    PASSWORD_WITHHELD,
    PORTABILITY_SCHEMA_VERSION,
    PORTABLE_BASES,
    PROVIDED,
    RIGHTS,
    SELF,
    field_label,
    has_french_label,
)
from mutualis.rights.export.page import NOT_GIVEN, access_page_context, display, entries
from mutualis.rights.export.plan import (
    BINARY,
    CHOICE,
    ENCRYPTED,
    INDEX,
    MANY,
    RELATION,
    SECRET,
    VALUE,
    FieldPlan,
    ModelPlan,
    plans,
)
from mutualis.rights.export.portability import CSV_COLUMNS, portability_archive
from mutualis.rights.export.render import render_access_json

__all__ = [
    "ACCESS_SCHEMA",
    "BINARY",
    "CHOICE",
    "CSV_COLUMNS",
    "ENCRYPTED",
    "FIELD_LABELS",
    "GENERATED",
    "INDEX",
    "INDEX_WITHHELD",
    "MANY",
    "NOT_GIVEN",
    "NOT_WALKED",
    "PASSWORD_WITHHELD",
    "PORTABILITY_SCHEMA_VERSION",
    "PORTABLE_BASES",
    "PROVIDED",
    "RELATION",
    "RIGHTS",
    "SECRET",
    "SELF",
    "VALUE",
    "FieldPlan",
    "ModelPlan",
    "access_page_context",
    "build_access_export",
    "display",
    "entries",
    "field_label",
    "has_french_label",
    "information",
    "plans",
    "portability_archive",
    "render_access_json",
]
