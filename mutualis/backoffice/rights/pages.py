"""Rights requests, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _request(world):
    from mutualis.rights.testing import objection_request

    return world.get("objection_request", lambda w: objection_request(w.alice))


def _restriction(world):
    from mutualis.privacy import restrictions
    from mutualis.privacy.models import RestrictionGround

    return world.get(
        "restriction",
        lambda w: restrictions.start(
            subject=w.dave.person,
            purpose="*",
            ground=RestrictionGround.RESTRICTION,
            reason="Exactitude contestée",
        ),
    )


cover("backoffice:rights_dashboard")
cover("backoffice:rights_register")
for name in (
    "rights_request",
    "rights_identity",
    "rights_ask_document",
    "rights_extend",
    "rights_process",
    "rights_rectify",
    "rights_objection",
    "rights_answer",
    "rights_refuse",
    "rights_close",
    "rights_note",
    "rights_export",
    "rights_attach",
):
    cover(f"backoffice:{name}", kwargs=lambda w: {"request_id": _request(w).pk})
for name in ("rights_person", "rights_death"):
    cover(f"backoffice:{name}", kwargs=lambda w: {"person_id": w.alice.person_id})
for name in ("rights_restriction_notice", "rights_restriction_lift", "rights_restriction_override"):
    cover(f"backoffice:{name}", kwargs=lambda w: {"restriction_id": _restriction(w).pk})
