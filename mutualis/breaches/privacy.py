"""The breach register: the breach itself describes an incident, not a person; the people
concerned are named by their person record, with the letter that informed them."""

from mutualis.breaches.tags import BreachTag
from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_LOGGED = personal(c.TECHNICAL, [c.SECURITY_LOGGING], provided=False)

declare(
    "breaches.Breach",
    # The register describes incidents and names no one in its texts (the form says so): the
    # people concerned are listed apart (AffectedPerson). Who recorded it is a staff account.
    fields={"recorded_by": _LOGGED},
    not_personal=[
        "reference",
        "status",
        "title",
        "discovered_at",
        "started_at",
        "ended_at",
        "natures",
        "origin",
        "circumstances",
        "data_categories",
        "subject_groups",
        "people_count",
        "records_count",
        "consequences",
        "measures_taken",
        "measures_planned",
        "risk",
        "cnil_notified_at",
        "cnil_reference",
        "late_reason",
        "people_decision",
        "not_inform_ground",
        "decision_note",
        "people_informed_at",
        "recorded_at",
        "closed_at",
        "archived_at",
    ],
    purpose=c.SECURITY_LOGGING,
    retention=c.RETENTION_BREACHES,
    retention_anchor="closed_at",
)

declare(
    "breaches.AffectedPerson",
    fields={
        "added_at": _LOGGED,
        "letter_channel": _LOGGED,
        "letter_at": _LOGGED,
        "withheld": _LOGGED,
    },
    not_personal=["breach", "person"],
    purpose=c.SECURITY_LOGGING,
    subject_field="person",
)

# Writing to the people a breach concerns (GDPR art. 34) uses their contact details beyond
# storage: the art. 18 guard is asked before each letter.
restrictions.register_use(BreachTag.LETTERS_SEND, purposes=[c.SECURITY_LOGGING])
