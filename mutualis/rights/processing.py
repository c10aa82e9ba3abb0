"""Running a request's handler: the work done for each kind (architecture.md §7).

:func:`process` runs the handler of the request's kind once its identity is checked and its
person known; :func:`request_from_member_space` files a member's own request and processes it at
once where the law allows it. The handlers themselves are in :mod:`mutualis.rights.handlers`
(access, portability, rectification, erasure), :mod:`mutualis.rights.objection` (objection,
marketing objection, consent withdrawal, restriction) and :mod:`mutualis.rights.post_mortem`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mutualis.rights.handlers import (
    handle_access,
    handle_erasure,
    handle_portability,
    handle_rectification,
)
from mutualis.rights.models import Channel, Kind, RightsRequest, Status
from mutualis.rights.objection import (
    handle_consent_withdrawal,
    handle_marketing_objection,
    handle_objection,
    handle_restriction,
)
from mutualis.rights.post_mortem import handle_post_mortem
from mutualis.rights.services import file_request

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


@dataclass(frozen=True)
class RequestLinks:
    """Links the answers give, built by the face that runs the request (a domain module never
    names a face): the member-space page of a request, where an access copy is downloaded."""

    request_page: Callable[[RightsRequest], str]


# Kinds whose answer points to the request's page in the member space.
LINKED_KINDS = frozenset({Kind.ACCESS, Kind.PORTABILITY})


def process(
    *, request: RightsRequest, actor=None, links: RequestLinks | None = None
) -> RightsRequest:
    """Run the kind's handler on a request in progress (identity checked, person known).

    Does nothing to a request still waiting for its identity check or its person; returns the
    request as it is then.
    """
    request = RightsRequest.objects.select_related("person").get(pk=request.pk)
    if request.status != Status.IN_PROGRESS or request.person_id is None:
        return request
    handler = HANDLERS[request.kind]
    if request.kind in LINKED_KINDS:
        page = links.request_page(request) if links is not None else ""
        return handler(request=request, actor=actor, request_page=page)
    return handler(request=request, actor=actor)


def request_from_member_space(
    *, member, kind: str, details: dict | None = None, links: RequestLinks | None = None
) -> RightsRequest:
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
        request = process(request=request, actor=member.account, links=links)
    return request
