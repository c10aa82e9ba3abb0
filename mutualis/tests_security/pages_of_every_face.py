"""Every covered page of every face with the persona that may open it: what the CSRF,
security-header and accessibility suites visit."""

from __future__ import annotations

from collections.abc import Iterator

from mutualis.lib.pages import Case
from mutualis.members import roles
from mutualis.tests_security.world import ROLES, attribute, cases, routes


def persona_for(route, case: Case) -> str:
    """``anonymous`` for a public page, ``member`` for the member space, else the first role of
    the role table holding the page's permission."""
    if case.public:
        return "anonymous"
    if route.face == "portal":
        return "member"
    permission = attribute(route.callback, "staff_permission")
    for role in ROLES:
        allowed = permission is None or roles.role_has_permission(role, permission)
        # A record of one service (an inquiry): the DPO sees every service's.
        if allowed and (not case.row_scope or role == "dpo"):
            return role
    raise AssertionError(f"no role may open {route.name}")


def every_page() -> Iterator[tuple]:
    """(route, case, persona) for every covered URL."""
    by_name = {route.name: route for route in routes()}
    for name, case in sorted(cases().items()):
        route = by_name[name]
        yield route, case, persona_for(route, case)
