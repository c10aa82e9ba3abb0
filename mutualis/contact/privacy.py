from django.utils import timezone

from mutualis.privacy import catalogue as c
from mutualis.privacy import promises
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_INQ = [c.INQUIRIES, c.COMPLAINTS]

declare(
    "contact.Inquiry",
    fields={
        "subject": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "person": personal(c.IDENTITY, _INQ, provided=False),
        "contact_name": personal(c.IDENTITY, _INQ, provided=True),
        "contact_email": personal(c.CONTACT, _INQ, provided=True),
        "contact_phone": personal(c.CONTACT, _INQ, provided=True),
        "contact_address": personal(c.CONTACT, _INQ, provided=True),
        "received_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "last_contact_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "closed_at": personal(c.CORRESPONDENCE, _INQ, provided=False),
    },
    not_personal=["id", "reference", "channel", "service", "status", "answer_due"],
    purpose=c.INQUIRIES,
    retention_anchor="last_contact_at",
    subject_field="person",
    # A thread qualified as a complaint follows the complaint's (longer) rule.
    retention_scope={"complaint__isnull": True},
)

declare(
    "contact.Message",
    fields={
        "body": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "sender": personal(c.CONTACT, _INQ, provided=True),
        "at": personal(c.CORRESPONDENCE, _INQ, provided=False),
        "author": personal(c.CORRESPONDENCE, _INQ, provided=False),
    },
    not_personal=["id", "inquiry", "direction", "channel", "source_id", "content_erased_at"],
    purpose=c.INQUIRIES,
    retention_anchor="at",
    subject_field="inquiry__person",
    # E-mails received: content erased after 3 months, a trace stays; other messages go with
    # their thread.
    retention=c.RETENTION_INBOUND_EMAIL,
    retention_scope={"channel": "email", "direction": "in"},
    anonymised_field="content_erased_at",
)

declare(
    "contact.Attachment",
    fields={
        "filename": personal(c.CORRESPONDENCE, _INQ, provided=True),
        "content": personal(c.CORRESPONDENCE, _INQ, provided=True),
    },
    not_personal=["id", "message", "content_type", "size"],
    purpose=c.INQUIRIES,
    retention_anchor="message__at",
    subject_field="message__inquiry__person",
    retention=c.RETENTION_INBOUND_EMAIL_FILES,
    retention_scope={"message__channel": "email", "message__direction": "in"},
)

declare(
    "contact.Complaint",
    fields={
        "received_on": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "complainant_type": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "product": personal(c.COMPLAINT, [c.COMPLAINTS], provided=True),
        "reason": personal(c.COMPLAINT, [c.COMPLAINTS], provided=True),
        "outcome": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "mediation": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "root_cause": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "acknowledged_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "answered_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "closed_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "qualified_at": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
        "qualified_by": personal(c.COMPLAINT, [c.COMPLAINTS], provided=False),
    },
    not_personal=["inquiry", "acknowledgement_due", "answer_due", "archived_at"],
    purpose=c.COMPLAINTS,
    retention_anchor="closed_at",
    subject_field="inquiry__person",
)


@promises.register("réclamations")
def complaints_within_deadline(now):
    """Every complaint is acknowledged and answered within its ACPR deadline (2022-R-01)."""
    from mutualis.contact.models import Complaint

    today = timezone.localdate(now)
    checks = [
        ("acknowledged_at", "acknowledgement_due", "sans accusé de réception"),
        ("answered_at", "answer_due", "sans réponse"),
    ]
    for done, due, what in checks:
        late = Complaint.objects.filter(**{f"{done}__isnull": True, f"{due}__lt": today})
        for reference, deadline in late.values_list("inquiry__reference", due):
            yield promises.Breach("réclamations", f"{reference} {what} au {deadline:%d/%m/%Y}")
