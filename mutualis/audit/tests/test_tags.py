import pytest

from mutualis.audit.tags import AuditTag, Tag


def test_a_tag_enum_member_is_its_string():
    assert AuditTag.DISCLOSURE_CREATE == "audit:disclosure:create"
    assert AuditTag.DISCLOSURE_CREATE.scope == "audit"


def test_a_malformed_tag_cannot_be_declared():
    with pytest.raises(ValueError, match="scope:resource:action"):

        class BadTag(Tag):
            UPDATE = "members-update"
