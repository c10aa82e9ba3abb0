from mutualis.privacy import catalogue as c
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

declare_not_personal("privacy.PolicyVersion")
declare_not_personal("privacy.RetentionRun")

declare(
    "privacy.LegalHold",
    fields={
        "subject_id": personal(c.IDENTITY, [c.LEGAL_OBLIGATIONS], provided=False),
        "reason": personal(c.CONTRACT_DATA, [c.LEGAL_OBLIGATIONS], provided=False),
        "created_by": personal(c.IDENTITY, [c.LEGAL_OBLIGATIONS], provided=False),
        "released_by": personal(c.IDENTITY, [c.LEGAL_OBLIGATIONS], provided=False),
    },
    not_personal=["target", "created_at", "released_at"],
)

# Restrictions of processing (GDPR art. 18, 21): proof of the person's rights, kept like the
# rights requests they come from (5 years after they are lifted).
_RIGHTS = [c.RIGHTS]
declare(
    "privacy.Restriction",
    fields={
        "subject_id": personal(c.IDENTITY, _RIGHTS, provided=False),
        "purpose": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "ground": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "reason": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "started_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "started_by": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "notice_sent_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "lifted_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "lifted_by": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "overrides": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
    },
    not_personal=["source", "archived_at"],
    purpose=c.RIGHTS,
    retention_anchor="lifted_at",
)

# The third-party models the project installs (sessions, login attempts, second factors).
from mutualis.privacy import third_party  # noqa: E402, F401
