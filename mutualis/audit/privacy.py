"""Privacy declaration of the audit log: people appear in it by id only (architecture.md §5)."""

from mutualis.audit.tags import AuditTag
from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

_LOGGED = personal(c.TECHNICAL, [c.SECURITY_LOGGING], provided=False)

declare(
    "audit.Event",
    fields={"subject_id": _LOGGED, "actor": _LOGGED, "details": _LOGGED},
    not_personal=["uid", "at", "tag", "target", "mac"],
    purpose=c.SECURITY_LOGGING,
    retention_anchor="at",
    subject_field="",  # subject_id is an id string, not a relation
    # Pruned from the start of the chain, keeping a checkpoint hash (never a plain DELETE).
    retention_handler="mutualis.audit.services.prune",
)

declare(
    "audit.Disclosure",
    fields={"subject_id": _LOGGED, "actor": _LOGGED},
    not_personal=["at", "recipient", "categories", "reason", "event", "archived_at"],
    purpose=c.SECURITY_LOGGING,
    retention_anchor="at",
    subject_field="",
)

declare(
    "audit.SecurityEvent",
    fields={"actor": _LOGGED, "network": _LOGGED, "address_hash": _LOGGED, "details": _LOGGED},
    not_personal=["at", "kind"],
    purpose=c.SECURITY_LOGGING,
    retention_anchor="at",
    subject_field="",
    # Technical logs: six months, then deleted (CNIL logging recommendation).
    retention=c.RETENTION_TECHNICAL_LOGS,
)

declare_not_personal("audit.ChainHead")
declare_not_personal("audit.ChainLink")

# A disclosure to a recipient uses the person's data beyond storage (the guard is in
# audit.record_disclosure), for whichever purpose the recipient serves.
restrictions.register_use(AuditTag.DISCLOSURE_CREATE, purposes=c.ALL_PURPOSES)
