"""Privacy declaration of the outside recipients' records.

What a recipient received is proven by the disclosure register (``audit.Disclosure``); the
records here add the detail of each flow and are kept like it: rights checks and exchange lines
as long as the register's entries, requisitions as long as the legal obligations they answer,
art. 19 notices as long as the rights requests they come from.
"""

from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal
from mutualis.recipients.tags import RecipientsTag

# The named contact of an organisation (a pharmacist, a clerk): kept while the organisation is.
declare(
    "recipients.Organisation",
    fields={
        "contact_name": personal(c.IDENTITY, [c.CONTRACT], provided=True),
        "contact_email": personal(c.CONTACT, [c.CONTRACT], provided=True),
        "contact_phone": personal(c.CONTACT, [c.CONTRACT], provided=True),
    },
    not_personal=[
        "kind",
        "name",
        "identifier_type",
        "identifier",
        "address",
        "rate_limit",
        "is_active",
        "created_at",
    ],
)

_LOGGED = personal(c.TECHNICAL, [c.SECURITY_LOGGING], provided=False)

declare(
    "recipients.Credential",
    fields={"created_by": _LOGGED, "revoked_by": _LOGGED},
    not_personal=[
        "organisation",
        "label",
        "prefix",
        "secret_hash",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "replaces",
    ],
)
declare_not_personal("recipients.RateWindow")

# Each answer of the rights-check API: the detail of its disclosure, kept as long.
declare(
    "recipients.RightsCheck",
    fields={
        "at": _LOGGED,
        "subject_id": _LOGGED,
        "care_date": _LOGGED,
        "outcome": _LOGGED,
    },
    not_personal=["id", "organisation", "credential", "disclosure", "archived_at"],
    purpose=c.SECURITY_LOGGING,
    retention_anchor="at",
)

# Art. 19 notices name what a recipient received by its references, never by the person's data.
_NOTICE = personal(c.RIGHTS_REQUEST, [c.RIGHTS], provided=False)
declare(
    "recipients.Notice",
    fields={"references": _NOTICE, "source": _NOTICE, "letter": _NOTICE},
    not_personal=[
        "id",
        "created_at",
        "organisation",
        "cause",
        "channel",
        "categories",
        "sent_at",
        "delivered_at",
        "archived_at",
    ],
    purpose=c.RIGHTS,
    retention_anchor="created_at",
)

declare_not_personal("recipients.ExchangeFile")
declare_not_personal("recipients.ExchangeAcknowledgement")

_EXCHANGED = personal(c.ADMINISTRATIVE, [c.CONTRACT], provided=False)
declare(
    "recipients.ExchangeLine",
    fields={
        "subject_id": _EXCHANGED,
        "status": _EXCHANGED,
        "reject_code": _EXCHANGED,
        "reject_label": _EXCHANGED,
        "resolved_at": _EXCHANGED,
        "resolved_by": _EXCHANGED,
        "resolution": _EXCHANGED,
    },
    not_personal=["exchange", "number", "kind", "notice", "disclosure", "archived_at"],
    purpose=c.CONTRACT,
    retention_anchor="exchange__created_at",
    # As long as the disclosure register's entries the lines detail.
    retention=c.RETENTION_SECURITY,
)

# Requisitions answer a legal obligation: kept like the other legal records.
_LEGAL = [c.LEGAL_OBLIGATIONS]
declare(
    "recipients.Requisition",
    fields={
        "registered_by": personal(c.IDENTITY, _LEGAL, provided=False),
        "decided_by": personal(c.IDENTITY, _LEGAL, provided=False),
        "delivered_by": personal(c.IDENTITY, _LEGAL, provided=False),
        "archive": personal(c.CONTRACT_DATA, _LEGAL, provided=False),
    },
    not_personal=[
        "organisation",
        "legal_basis",
        "reference",
        "received_on",
        "deadline",
        "categories",
        "forbids_notice",
        "secrecy_ground",
        "secrecy_lifted_at",
        "status",
        "registered_at",
        "decided_at",
        "decision_reasons",
        "exported_at",
        "archive_sha256",
        "archive_key_id",
        "delivered_at",
        "archived_at",
    ],
    purpose=c.LEGAL_OBLIGATIONS,
    retention_anchor="received_on",
)
declare(
    "recipients.RequisitionSubject",
    fields={
        "subject_id": personal(c.IDENTITY, _LEGAL, provided=False),
        "told_at": personal(c.CONTRACT_DATA, _LEGAL, provided=False),
        "told_channel": personal(c.CONTRACT_DATA, _LEGAL, provided=False),
    },
    not_personal=["requisition", "disclosure", "archived_at"],
    purpose=c.LEGAL_OBLIGATIONS,
    retention_anchor="requisition__received_on",
)

# Uses of a person's data beyond storage, checked by the art. 18 guard (privacy.restrictions):
# the rights-check answer to a health professional, and the export to an authority.
restrictions.register_use(RecipientsTag.CHECK_ANSWER, purposes=[c.CONTRACT])
restrictions.register_use(RecipientsTag.REQUISITION_EXPORT, purposes=[c.LEGAL_OBLIGATIONS])
