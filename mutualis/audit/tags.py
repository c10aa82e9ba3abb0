"""Audit tags: what an event records, named ``scope:resource:action``.

Each app declares its tags as an enum next to its services, so a tag is written once and a typo is
an ``AttributeError`` rather than a silently new tag::

    from mutualis.audit.tags import Tag

    class RightsTag(Tag):
        REQUEST_APPROVE = "rights:request:approve"

A member whose value does not have the ``scope:resource:action`` shape refuses to be defined.
"""

from __future__ import annotations

import enum
import re

TAG_PATTERN = re.compile(r"^[a-z0-9_]+:[a-z0-9_]+:[a-z0-9_]+$")


def validate_tag(value: str) -> str:
    """Return ``value`` if it is a well-formed tag, else raise ``ValueError``."""
    if not isinstance(value, str) or not TAG_PATTERN.fullmatch(value):
        raise ValueError(f"audit tag {value!r} is not of the form scope:resource:action")
    return value


class Tag(enum.StrEnum):
    """Base of every app's tag enum; each value is checked when the enum is defined."""

    def __init__(self, value: str) -> None:
        validate_tag(value)

    @property
    def scope(self) -> str:
        return self.value.split(":", 1)[0]


class AuditTag(Tag):
    """Events written by the audit app itself."""

    DISCLOSURE_CREATE = "audit:disclosure:create"
    CHAIN_PRUNE = "audit:chain:prune"
