"""One answer to "is this an IBAN?", for every part of the project that asks.

ISO 13616 decides: the country's IBAN length and structure (the SWIFT IBAN registry, as
``python-stdnum`` ships it) and the mod-97 check digits. A country's own rules on its bank
codes (``stdnum.be.iban``'s bank list, for one) are information, never a reason to refuse: a
bank missing from a library's list still holds real SEPA accounts (``BE68539007547034``), and a
value refused as an IBAN would also slip past the checks that keep IBANs out of logs and audit
details.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError


def compact(value: str) -> str:
    return stdnum_iban.compact(value or "")


def validate(value: str) -> str:
    """The compact IBAN, or ``stdnum.exceptions.ValidationError`` (ISO 13616 only)."""
    return stdnum_iban.validate(value, check_country=False)


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except (StdnumError, ValueError, TypeError):
        return False
    return True


# A record id, as a UUID (8-4-4-4-12) or its 32 hexadecimal digits. Its 4-character groups read
# as an IBAN's make an IBAN *shape* in about one random id in seven, and a valid one about twice
# in a million (``a68c3dcb-de64-4169-8478-7123373014e4`` holds DE64 4169 8478 7123 3730 14). No
# IBAN is written like this, so what looks for IBANs (the log filter, the audit's refusal) sets
# ids aside first.
RECORD_ID = re.compile(
    r"(?<![0-9A-Z])(?:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}|[0-9A-F]{32})"
    r"(?![0-9A-Z])",
    re.IGNORECASE,
)
