"""Staff accounts are personal data of the staff (category: account). They are kept while the
person works here and anonymised a while after their departure (``RETENTION_STAFF_ACCOUNTS``)."""

from mutualis.privacy import catalogue as c
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_ACCOUNT = personal(c.ACCOUNT, [c.WEBSITE], provided=False)

declare(
    "staff.StaffAccount",
    fields={
        "invited_at": _ACCOUNT,
        "invited_by": _ACCOUNT,
        "password_set_at": _ACCOUNT,
        "deactivated_at": _ACCOUNT,
    },
    not_personal=["account", "anonymised_at"],
    purpose=c.WEBSITE,
    retention=c.RETENTION_STAFF_ACCOUNTS,
    retention_anchor="deactivated_at",
    anonymised_field="anonymised_at",
    # The login row (members.User) is what holds the address and name: anonymised in place so
    # that audit events naming "user:<id>" still point at one account.
    retention_handler="mutualis.staff.accounts.end_departed_accounts",
)

declare(
    "staff.RecoveryCode",
    # A keyed hash of a random code: it says nothing of the person; it goes with the second
    # factor (replaced at each enrolment, removed at a reset or an anonymisation).
    fields={
        "created_at": _ACCOUNT,
        "used_at": _ACCOUNT,
    },
    not_personal=["account", "digest"],
    purpose=c.WEBSITE,
)

declare(
    "staff.Approval",
    fields={
        "reason": _ACCOUNT,
        "requested_by": _ACCOUNT,
        "decided_by": _ACCOUNT,
    },
    not_personal=[
        "kind",
        "status",
        "account",
        "role",
        "requested_at",
        "expires_at",
        "decided_at",
    ],
    purpose=c.WEBSITE,
    # Kept six months after the decision, as the technical logs; the audit log keeps the proof of
    # who asked and who approved for as long as it keeps its events.
    retention=c.RETENTION_TECHNICAL_LOGS,
    retention_anchor="decided_at",
)
