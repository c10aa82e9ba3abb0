"""Audit tags of staff administration (the *admin* service) and of the second factor."""

from mutualis.audit.tags import Tag


class StaffTag(Tag):
    INVITE = "staff:account:invite"
    INVITATION_RESEND = "staff:account:invitation_resend"
    PASSWORD_SET = "staff:account:password_set"  # noqa: S105 - a tag, not a secret
    ROLE_CHANGE = "staff:account:role_change"
    DEACTIVATE = "staff:account:deactivate"
    REACTIVATE = "staff:account:reactivate"
    ANONYMISE = "staff:account:anonymise"
    FACTOR_RESET = "staff:factor:reset"
    RECOVERY_ISSUE = "staff:recovery:issue"
    RECOVERY_USE = "staff:recovery:use"
    APPROVAL_REQUEST = "staff:approval:request"
    APPROVAL_APPROVE = "staff:approval:approve"
    APPROVAL_REJECT = "staff:approval:reject"
    APPROVAL_CANCEL = "staff:approval:cancel"
    APPROVAL_EXPIRE = "staff:approval:expire"
    REAUTHENTICATE = "staff:session:reauthenticate"
    REAUTHENTICATION_FAILED = "staff:session:reauthentication_failed"
