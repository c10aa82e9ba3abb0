"""Structured logging that never carries a NIR or an IBAN.

Log lines are JSON objects. Whatever a caller passes, a filter replaces anything shaped like a
NIR or an IBAN with a placeholder before a handler sees it (defence in depth: code should not log
personal data in the first place).

"Shaped like" is deliberately wide, because a log line is read later by people who should not
see either: a NIR with or without its 2-digit key (13 or 15 characters, any first digit 1–8,
Corsica's 2A/2B), grouped by spaces, dots or dashes, or written into a query string (``+``,
``%20``…), as a server's request log writes it (``GET /gestion/adherents/?q=2+95+10…``).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from mutualis.lib.iban import RECORD_ID

# One optional separator between groups: what people type (space, dot, dash) and what a query
# string makes of a space (``+``, ``%20``) or of those signs (``%2B``, ``%2D``, ``%2E``).
_SEP = r"(?:[\s.+\-]|%20|%2[BbDdEe])?"
# Starts after anything but a letter, a digit or the inside of a percent-escape, or right after
# a whole percent-escape (``q=Martin%202951…``).
_START = r"(?:(?<![0-9A-Za-z%])(?<!%[0-9A-Fa-f])|(?<=%[0-9A-Fa-f]{2}))"
# 13 characters (sex, year, month, department — 2A/2B for Corsica —, commune, order), then the
# optional key; not followed by another digit, so a longer number is not a NIR.
_NIR = re.compile(
    _START
    + r"[1-8]"
    + _SEP.join(["", r"\d{2}", r"\d{2}", r"(?:\d{2}|2[AaBb])", r"\d{3}", r"\d{3}"])
    + rf"(?:{_SEP}\d{{2}})?"
    + r"(?![0-9])"
)
# Country code, 2 check digits, 10 to 30 alphanumerics, optionally grouped by 4.
_IBAN = re.compile(
    _START
    + rf"[A-Z]{{2}}\d{{2}}(?:{_SEP}[A-Z0-9]{{4}}){{2,7}}(?:{_SEP}[A-Z0-9]{{1,4}})?(?![A-Z0-9])",
    re.I,
)

NIR_PLACEHOLDER = "[NIR masqué]"
IBAN_PLACEHOLDER = "[IBAN masqué]"


def _redact_between_ids(text: str) -> str:
    return _IBAN.sub(IBAN_PLACEHOLDER, _NIR.sub(NIR_PLACEHOLDER, text))


def redact(text: str) -> str:
    parts: list[str] = []
    last = 0
    # Ids aside (RECORD_ID): masking part of one would make the line useless, protecting no one.
    for found in RECORD_ID.finditer(text):
        parts += (_redact_between_ids(text[last : found.start()]), found.group())
        last = found.end()
    parts.append(_redact_between_ids(text[last:]))
    return "".join(parts)


class RedactPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)
