"""Structured logging that never carries a NIR or an IBAN.

Log lines are JSON objects. Whatever a caller passes, a filter replaces anything shaped like a
NIR or an IBAN with a placeholder before a handler sees it (defence in depth: code should not log
personal data in the first place).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# 13 digits (Corsica: 2A/2B in the department) + 2-digit key, with optional spaces.
_NIR = re.compile(r"\b[12378]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AaBb])\s?\d{3}\s?\d{3}\s?\d{2}\b")
# Country code, 2 check digits, 10 to 30 alphanumerics, optionally grouped by 4.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b", re.I)


def redact(text: str) -> str:
    return _IBAN.sub("[IBAN masqué]", _NIR.sub("[NIR masqué]", text))


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
        return json.dumps(entry, ensure_ascii=False)
