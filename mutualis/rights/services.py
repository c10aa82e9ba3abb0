"""The rights app's services: one import for views, commands and the back office.

Lifecycle (:mod:`mutualis.rights.lifecycle`)::

    file_request(*, kind, person=None, requester_name="", requester_email="",
                 requester_address="", requester_capacity="self", channel, received_at=None,
                 details=None, actor=None, identity_verified, identity_method="",
                 identity_note="") -> RightsRequest
    record_identity_check(*, request, method, actor, note="") -> RightsRequest
    ask_identity_document(*, request, reason, actor) -> RightsRequest
    extend(*, request, reason, actor, months=2) -> RightsRequest
    answer(*, request, outcome, text, actor, reasons="", attachments=()) -> RightsRequest
    refuse(*, request, reasons, actor) -> RightsRequest
    close(*, request, actor=None) -> RightsRequest
    transition(*, request, status, actor, note="") -> RightsRequest
    add_note(*, request, note, actor) -> RequestEvent

Handlers (:mod:`mutualis.rights.handlers`, :mod:`mutualis.rights.objection`,
:mod:`mutualis.rights.post_mortem`)::

    process(*, request, actor=None) -> RightsRequest          # the kind's automatic handler
    handle_access / handle_portability / handle_rectification / handle_erasure /
    handle_objection / handle_marketing_objection / handle_consent_withdrawal /
    handle_restriction / handle_post_mortem(*, request, actor=None) -> RightsRequest
    export_file(*, request, actor) -> (filename, bytes, content_type)
    access_copy(*, request, actor) -> dict                  # for an HTML page, audited
    requested_changes(request) -> dict
    apply_rectification(*, request, changes, actor, answer_now=True) -> RightsRequest
    erasure_preview(person) -> erasure.Plan
    decide_objection(*, request, upheld, grounds, actor) -> RightsRequest
    notify_restriction_lift(*, restriction, reason, actor) -> Restriction
    lift_restriction(*, restriction, actor) -> Restriction
    record_directive(*, person, scope, instructions, designated_name="",
                     designated_email="", actor=None, request=None) -> PostMortemDirective
    revoke_directive(*, directive, actor=None) -> PostMortemDirective
    record_death(*, person, date, proof_type, actor) -> (DeathRecord, [PostMortemDirective])

Member space::

    request_from_member_space(*, member, kind, details=None) -> RightsRequest

Errors are :class:`RightsError` (and its :class:`InvalidTransition`), with French messages.
"""

from __future__ import annotations

from mutualis.rights.handlers import (
    access_copy,
    apply_rectification,
    erasure_preview,
    export_file,
    handle_access,
    handle_erasure,
    handle_portability,
    handle_rectification,
    requested_changes,
)
from mutualis.rights.lifecycle import (
    InvalidTransition,
    RightsError,
    add_note,
    answer,
    ask_identity_document,
    close,
    extend,
    file_request,
    record_identity_check,
    refuse,
    transition,
)
from mutualis.rights.models import Channel, Kind, RightsRequest, Status
from mutualis.rights.objection import (
    decide_objection,
    handle_consent_withdrawal,
    handle_marketing_objection,
    handle_objection,
    handle_restriction,
    lift_restriction,
    notify_restriction_lift,
)
from mutualis.rights.post_mortem import (
    handle_post_mortem,
    record_death,
    record_directive,
    revoke_directive,
)

HANDLERS = {
    Kind.ACCESS: handle_access,
    Kind.PORTABILITY: handle_portability,
    Kind.RECTIFICATION: handle_rectification,
    Kind.ERASURE: handle_erasure,
    Kind.OBJECTION: handle_objection,
    Kind.MARKETING_OBJECTION: handle_marketing_objection,
    Kind.CONSENT_WITHDRAWAL: handle_consent_withdrawal,
    Kind.RESTRICTION: handle_restriction,
    Kind.POST_MORTEM: handle_post_mortem,
}


def process(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Run the kind's handler on a request in progress (identity checked, person known).

    Does nothing to a request still waiting for its identity check or its person; returns the
    request as it is then.
    """
    request = RightsRequest.objects.select_related("person").get(pk=request.pk)
    if request.status != Status.IN_PROGRESS or request.person_id is None:
        return request
    return HANDLERS[request.kind](request=request, actor=actor)


def request_from_member_space(*, member, kind: str, details: dict | None = None) -> RightsRequest:
    """A request filed by a member logged into the member space (identified by their login),
    handled at once where the law allows it. A duplicate of an open request is merged, not
    handled twice."""
    from mutualis.rights.rectification import seal_changes

    details = dict(details or {})
    if kind == Kind.RECTIFICATION and "changes" in details:
        details["changes"] = seal_changes(member.person, details["changes"])
    request = file_request(
        kind=kind,
        person=member.person,
        channel=Channel.MEMBER_SPACE,
        details=details,
        actor=member.account,
        identity_verified=True,
    )
    if request.answered_at is None and request.status == Status.IN_PROGRESS:
        request = process(request=request, actor=member.account)
    return request


__all__ = [
    "HANDLERS",
    "InvalidTransition",
    "RightsError",
    "access_copy",
    "add_note",
    "answer",
    "apply_rectification",
    "ask_identity_document",
    "close",
    "decide_objection",
    "erasure_preview",
    "export_file",
    "extend",
    "file_request",
    "handle_access",
    "handle_consent_withdrawal",
    "handle_erasure",
    "handle_marketing_objection",
    "handle_objection",
    "handle_portability",
    "handle_post_mortem",
    "handle_rectification",
    "handle_restriction",
    "lift_restriction",
    "notify_restriction_lift",
    "process",
    "record_death",
    "record_directive",
    "record_identity_check",
    "refuse",
    "request_from_member_space",
    "requested_changes",
    "revoke_directive",
    "transition",
]
