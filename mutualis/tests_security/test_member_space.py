"""Generated from the resolver: every member-space URL with an object in it is covered as
``owned`` and, asked by another member, answers 404; every private member-space URL sends an
anonymous visitor to the login."""

import pytest
from django.urls import reverse

from mutualis.lib.pages import Case, Exemption
from mutualis.tests_security.requests import fetch, is_login_redirect
from mutualis.tests_security.world import Route, cases, exemptions, routes

pytestmark = pytest.mark.django_db


def _member_cases():
    names = {route.name for route in routes() if route.face == "portal"}
    return [case for name, case in sorted(cases().items()) if name in names]


def _not_owned(routes_: list[Route], registered: dict[str, Case | Exemption]) -> list[str]:
    """Private member-space URLs with an argument (a converter) not covered as ``owned``: the
    argument names an object, which must be one member's and refused to every other. A public
    page's arguments are a link's token, not an object."""
    wrong = []
    for route in routes_:
        if route.face != "portal" or "<" not in route.pattern:
            continue
        entry = registered.get(route.name)
        if isinstance(entry, Case) and (entry.public or entry.owned is not None):
            continue
        wrong.append(route.name)
    return wrong


def test_every_member_space_url_naming_an_object_is_covered_as_owned():
    assert not _not_owned(routes(), cases() | exemptions())


def test_a_member_space_object_covered_otherwise_is_caught():
    route = Route("portal:new_thing", "/espace/choses/<uuid:pk>/", lambda request: None)
    plain = Case("portal:new_thing", kwargs=lambda w: {"pk": "0"})
    exempted = Exemption("portal:new_thing", "built by no one yet")
    owned = Case("portal:new_thing", owned=lambda member, w: {"pk": "0"})
    assert _not_owned([route], {route.name: plain}) == [route.name]
    assert _not_owned([route], {route.name: exempted}) == [route.name]
    assert _not_owned([route], {}) == [route.name]
    assert _not_owned([route], {route.name: owned}) == []


def test_another_members_objects_answer_404_and_ones_own_do_not(world):
    owned = [case for case in _member_cases() if case.owned is not None]
    assert owned  # contracts, threads, requests, copies, directives
    failures = []
    for case in owned:
        foreign = fetch(world.client_as("member"), world.url(case, owner=world.dave))
        own = fetch(world.client_as("member"), world.url(case, owner=world.alice))
        if foreign.status_code != 404:
            failures.append(f"{case.name}: dave's object answered {foreign.status_code} to alice")
        if own.status_code in (403, 404) or own.status_code >= 500:
            failures.append(f"{case.name}: alice's own object answered {own.status_code}")
    assert not failures, "\n".join(failures)


def test_an_anonymous_visitor_is_sent_to_the_login_page(world):
    login = reverse("portal:login")
    failures = []
    for case in _member_cases():
        if case.public:
            continue
        response = fetch(world.client_as("anonymous"), world.url(case))
        if not is_login_redirect(response, login):
            failures.append(f"{case.name}: {response.status_code} {response.get('Location', '')}")
    assert not failures, "\n".join(failures)
