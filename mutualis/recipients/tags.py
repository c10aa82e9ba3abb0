"""Audit tags and security-log kinds of the external recipients."""

from mutualis.audit.tags import Tag


class RecipientsTag(Tag):
    ORGANISATION_CREATE = "recipients:organisation:create"
    ORGANISATION_UPDATE = "recipients:organisation:update"
    CREDENTIAL_CREATE = "recipients:credential:create"
    CREDENTIAL_ROTATE = "recipients:credential:rotate"
    CREDENTIAL_REVOKE = "recipients:credential:revoke"
    CHECK_ANSWER = "recipients:check:answer"
    CHECK_WITHHELD = "recipients:check:withheld"
    NOTICE_CREATE = "recipients:notice:create"
    NOTICE_DELIVER = "recipients:notice:deliver"
    NOTICE_SEND = "recipients:notice:send"
    EXCHANGE_WRITE = "recipients:exchange:write"
    EXCHANGE_ACKNOWLEDGE = "recipients:exchange:acknowledge"
    REJECTION_RESOLVE = "recipients:rejection:resolve"
    REQUISITION_REGISTER = "recipients:requisition:register"
    REQUISITION_DECIDE = "recipients:requisition:decide"
    REQUISITION_EXPORT = "recipients:requisition:export"
    REQUISITION_DOWNLOAD = "recipients:requisition:download"
    REQUISITION_DELIVER = "recipients:requisition:deliver"
    REQUISITION_TELL = "recipients:requisition:tell"
    SECRECY_LIFT = "recipients:secrecy:lift"


class PartnerSecurity(Tag):
    """Refused API calls, in the security log (no personal data in them)."""

    KEY_REFUSED = "partners:key:refused"
    SCOPE_REFUSED = "partners:scope:refused"
    RATE_LIMITED = "partners:rate:limited"
