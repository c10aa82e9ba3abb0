"""Privacy declaration of the rights app: requests are kept as proof of the answer given.

Purpose RIGHTS (legal obligation, GDPR art. 12 to 22): a request is active until closed, then in
the intermediate archive for five years (RETENTION_RIGHTS), then deleted with its history.
An erasure request never erases the requests themselves: they are the mutuelle's proof that it
answered (GDPR art. 5(2), accountability), hence ``kept_for`` on every field.
"""

from django.utils import timezone

from mutualis.privacy import catalogue as c
from mutualis.privacy import promises
from mutualis.privacy.declaration import Anchor, Duration, EndAction, RetentionRule, personal
from mutualis.privacy.registry import declare

_RIGHTS = [c.RIGHTS]
_PROOF = (
    "RGPD art. 5(2) et 12 : preuve de votre demande et de notre réponse, conservée 5 ans après "
    "sa clôture"
)


def _proof(category, *, provided: bool):
    return personal(category, _RIGHTS, provided=provided, kept_for=_PROOF)


declare(
    "rights.RightsRequest",
    fields={
        "reference": _proof(c.RIGHTS_REQUEST, provided=False),
        "kind": _proof(c.RIGHTS_REQUEST, provided=True),
        "person": _proof(c.IDENTITY, provided=False),
        "subject_id": _proof(c.IDENTITY, provided=False),
        "requester_name": _proof(c.IDENTITY, provided=True),
        "requester_email": _proof(c.CONTACT, provided=True),
        "requester_address": _proof(c.CONTACT, provided=True),
        "requester_capacity": _proof(c.RIGHTS_REQUEST, provided=True),
        "channel": _proof(c.RIGHTS_REQUEST, provided=True),
        "received_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "identity_method": _proof(c.RIGHTS_REQUEST, provided=False),
        "identity_note": _proof(c.RIGHTS_REQUEST, provided=False),
        "identity_checked_by": _proof(c.RIGHTS_REQUEST, provided=False),
        "identity_checked_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "identity_requested_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "waited_days": _proof(c.RIGHTS_REQUEST, provided=False),
        "due_date": _proof(c.RIGHTS_REQUEST, provided=False),
        "extended_months": _proof(c.RIGHTS_REQUEST, provided=False),
        "extension_reason": _proof(c.RIGHTS_REQUEST, provided=False),
        "extension_notice_sent_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "status": _proof(c.RIGHTS_REQUEST, provided=False),
        "outcome": _proof(c.RIGHTS_REQUEST, provided=False),
        "answer_text": _proof(c.CORRESPONDENCE, provided=False),
        "refusal_reasons": _proof(c.RIGHTS_REQUEST, provided=False),
        "answered_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "closed_at": _proof(c.RIGHTS_REQUEST, provided=False),
        "details": _proof(c.RIGHTS_REQUEST, provided=True),
    },
    not_personal=["id", "archived_at"],
    purpose=c.RIGHTS,
    retention_anchor="closed_at",
    subject_field="person",
)

declare(
    "rights.RequestEvent",
    fields={
        "at": _proof(c.RIGHTS_REQUEST, provided=False),
        "actor": _proof(c.RIGHTS_REQUEST, provided=False),
        "action": _proof(c.RIGHTS_REQUEST, provided=False),
        "note": _proof(c.RIGHTS_REQUEST, provided=False),
    },
    not_personal=["request"],
    purpose=c.RIGHTS,
    # No clock of its own: the history goes with its request.
    subject_field="request__person",
)

declare(
    "rights.PostMortemDirective",
    fields={
        "scope": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "instructions": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "designated_name": personal(c.IDENTITY, _RIGHTS, provided=True),
        "designated_email": personal(c.CONTACT, _RIGHTS, provided=True),
        "recorded_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "revoked_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "applied_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
    },
    not_personal=["id", "person", "request"],
    purpose=c.RIGHTS,
    # Kept while the person's data is: they go with the person.
    subject_field="person",
)

declare(
    "rights.DeathRecord",
    fields={
        "date_of_death": personal(c.IDENTITY, _RIGHTS, provided=False),
        "proof_type": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "recorded_by": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
        "recorded_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
    },
    not_personal=["person"],
    purpose=c.RIGHTS,
    subject_field="person",
)


# A request from the public form, held until its address is verified: the link lasts a day, the
# row two at most (then deleted), verified or not.
declare(
    "rights.PendingRequest",
    fields={
        "kind": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "requester_name": personal(c.IDENTITY, _RIGHTS, provided=True),
        "requester_email": personal(c.CONTACT, _RIGHTS, provided=True),
        "requester_capacity": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "message": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=True),
        "created_at": personal(c.RIGHTS_REQUEST, _RIGHTS, provided=False),
    },
    not_personal=["id", "token_hash", "expires_at"],
    purpose=c.RIGHTS,
    retention_anchor="created_at",
    retention=RetentionRule(
        anchor=Anchor.COLLECTION,
        active=Duration(days=2),
        archive=Duration(),
        end_action=EndAction.DELETE,
        source="RGPD art. 5(1)(e) : une demande dont l'adresse n'est pas confirmée est effacée",
    ),
)


@promises.register("T4", section="5", title="Demandes de droits traitées dans le délai")
def rights_requests_within_deadline(now) -> promises.Finding:
    """Every open request is answered by its deadline (GDPR art. 12(3)); the clock waits while
    an identity document is awaited."""
    from mutualis.rights.models import RightsRequest

    late = RightsRequest.objects.overdue(timezone.localdate(now))
    breaches = [
        f"{reference} sans réponse au {due:%d/%m/%Y}"
        for reference, due in late.values_list("reference", "due_date")
    ]
    return promises.Finding(RightsRequest.objects.open().count(), breaches)
