from mutualis.audit.tags import Tag


class MembersTag(Tag):
    PERSON_CREATE = "members:person:create"
    MEMBER_CREATE = "members:member:create"
    BENEFICIARY_CREATE = "members:beneficiary:create"
    CONTACT_RECTIFY = "members:contact:rectify"
    IDENTITY_RECTIFY = "members:identity:rectify"
    ACCOUNT_CLOSE = "members:account:close"
    NIR_REVEAL = "members:nir:reveal"
    ACCOUNT_CREATE = "members:account:create"
    ACCOUNT_ACTIVATE = "members:account:activate"
    ACCOUNT_LOGIN = "members:account:login"
    ACCOUNT_LOGIN_FAILED = "members:account:login_failed"
    ACCOUNT_LOGOUT = "members:account:logout"
    ACCOUNT_PASSWORD_RESET = "members:account:password_reset"  # noqa: S105
    STAFF_DEVICE_CONFIRM = "members:staff:device_confirm"


class SecurityKind(Tag):
    """Kinds of the security log's entries about logins and sessions (members.sessions)."""

    LOGIN_SUCCEEDED = "members:login:succeeded"
    LOGIN_REFUSED = "members:login:refused"
    LOGIN_LOCKED = "members:login:locked"
    SESSION_ENDED = "members:session:ended"
