"""Objects of the rights app for tests of other apps (the security and accessibility suites)."""

from __future__ import annotations

from mutualis.rights import post_mortem
from mutualis.rights.models import Channel, DirectiveScope, Kind, RightsRequest
from mutualis.rights.processing import request_from_member_space

RIGHTS_MARKER = "Demande-droits-marqueur"


def access_request(member) -> RightsRequest:
    """An access request filed from the member space: answered at once, with its copy."""
    return request_from_member_space(member=member, kind=Kind.ACCESS)


def objection_request(member) -> RightsRequest:
    """A request waiting for a decision, filed by letter, with a reason of the member's."""
    from mutualis.rights.services import file_request

    return file_request(
        kind=Kind.OBJECTION,
        person=member.person,
        channel=Channel.LETTER,
        details={"reason": RIGHTS_MARKER},
        identity_verified=True,
        identity_method="other",
        identity_note="signature comparée à celle du dossier",
    )


def directive(member):
    return post_mortem.record_directive(
        person=member.person,
        scope=DirectiveScope.GENERAL,
        instructions="Supprimer mes données après mon décès.",
        actor=member.account,
    )
