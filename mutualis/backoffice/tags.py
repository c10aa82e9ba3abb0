"""Audit tags written by the back office (sensitive reads; writes are tagged by their app)."""

from mutualis.audit.tags import Tag


class BackofficeTag(Tag):
    # Opening a member's record is a sensitive read (architecture.md §5).
    MEMBER_VIEW = "backoffice:member:view"
    # An exact NIR lookup: who searched, and whom it found; never the NIR itself.
    NIR_SEARCH = "members:nir:search"
