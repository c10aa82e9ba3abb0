"""Audit events read raw: their signed and hashed content rebuilt from the stored columns.

The sequencer (placing events in the chain) and ``audit_verify`` (checking them) read many
events at a time. Through the ORM each value would be parsed into a Python object (a UUID, an
aware datetime, the details by the standard JSON parser) only to be written out again in the
canonical form. Here the database writes the uid and the timestamp in that form where it can
(PostgreSQL); SQLite's stored forms are turned into it by string slicing. Both readers use this
one decoder, so that the content the sequencer hashes is, byte for byte, the content the
verifier checks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from mutualis.audit.models import canonical_at, canonical_text_content

# The event's columns, ``e`` being audit_event, in the order :meth:`Decoder.row` takes them.
COLUMNS = {
    "postgresql": "e.uid::text, to_char(e.at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\'), e.actor, e.tag, e.subject_id, e.target, '
    "e.details, e.mac",
    "sqlite": "e.uid, CAST(e.at AS TEXT), e.actor, e.tag, e.subject_id, e.target, e.details, e.mac",
}


class Decoder:
    """Turns raw column values (:data:`COLUMNS`) into the canonical content and the stored MAC."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.columns = COLUMNS["postgresql" if vendor == "postgresql" else "sqlite"]

    def row(self, uid, at, actor, tag, subject_id, target, details, mac) -> tuple[bytes, str]:
        if self.vendor != "postgresql":
            uid, at = sqlite_uid(uid), sqlite_at(at)
        if isinstance(details, str | bytes):
            details = orjson.loads(details)
        content = canonical_text_content(
            uid=uid,
            at=at,
            actor=actor,
            tag=tag,
            subject_id=subject_id,
            target=target,
            details=details,
        )
        return content, mac


def sqlite_uid(text: str) -> str:
    """32 hexadecimal digits as stored, in the dashed form of ``str(UUID)``."""
    if len(text) != 32:
        return str(uuid.UUID(text))
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def sqlite_at(text: str) -> str:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC, as stored) in the form of :func:`canonical_at`."""
    if len(text) == 26 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}+00:00"
    if len(text) == 19 and text[10] == " ":  # no fraction: a whole second
        return f"{text[:10]}T{text[11:]}.000000+00:00"
    return canonical_at(datetime.fromisoformat(text).replace(tzinfo=UTC))
