"""Generated from the resolver: every member-space URL with an object in it, asked by another
member, answers 404; every private member-space URL sends an anonymous visitor to the login."""

import pytest
from django.urls import reverse

from mutualis.tests_security.requests import fetch, is_login_redirect
from mutualis.tests_security.world import cases, routes

pytestmark = pytest.mark.django_db


def _member_cases():
    names = {route.name for route in routes() if route.face == "portal"}
    return [case for name, case in sorted(cases().items()) if name in names]


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
