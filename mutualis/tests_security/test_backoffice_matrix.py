"""Generated from the resolver and the role table: every back-office URL × every role.

The permission a page needs is read from its ``staff_view(permission)`` decorator, the roles and
their permissions from ``members.roles``, the categories each service may see from the
declaration. An anonymous visitor is sent to the login, a member is refused, a role is let in
exactly when it holds the permission, and a page shows no category its viewer's service is not
granted. A download is an export: it needs a recent re-authentication, unless its case says why
not.
"""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from mutualis.members import roles
from mutualis.tests_security.requests import fetch, is_login_redirect
from mutualis.tests_security.world import ROLES, attribute, cases, routes

pytestmark = pytest.mark.django_db

_UNSET = object()


def _back_office():
    by_name = {route.name: route for route in routes() if route.face == "backoffice"}
    return [(by_name[name], case) for name, case in sorted(cases().items()) if name in by_name]


def test_every_back_office_page_is_behind_staff_view_unless_it_is_a_login_page():
    for route, case in _back_office():
        guarded = attribute(route.callback, "staff_permission", _UNSET) is not _UNSET
        assert guarded != case.public, (
            f"{route.name}: {'public page behind staff_view' if guarded else 'no staff_view'}"
        )


def _allowed(role: str, permission) -> bool:
    return permission is None or roles.role_has_permission(role, permission)


def test_each_role_gets_exactly_what_the_role_table_and_the_declaration_grant(world):
    login = reverse("backoffice:login")
    markers = world.markers()
    refused, wrong, leaks, downloads = [], [], [], []
    seen: set[str] = set()  # categories whose values some granted service was shown
    for route, case in _back_office():
        if case.public:
            continue
        permission = attribute(route.callback, "staff_permission")
        recent = attribute(route.callback, "recent_auth", False)
        url = world.url(case)
        if not is_login_redirect(fetch(world.client_as("anonymous"), url, case, world), login):
            wrong.append(f"{route.name}: anonymous not sent to the login")
        if fetch(world.client_as("member"), url, case, world).status_code != 403:
            wrong.append(f"{route.name}: a member was not refused")
        reached = False
        for role in ROLES:
            response = fetch(world.client_as(role), url, case, world)
            if not _allowed(role, permission):
                if response.status_code != 403:
                    refused.append(f"{route.name}: {role} got {response.status_code}, not 403")
                continue
            if case.row_scope and response.status_code == 404:
                continue  # the record is another service's
            reached = True
            posted = response.request["REQUEST_METHOD"] == "POST"
            expected_ok = response.status_code not in (403, 404) and response.status_code < 500
            if not expected_ok or (not posted and response.status_code != case.status):
                wrong.append(f"{route.name}: {role} (allowed) got {response.status_code}")
                continue
            if response.get("Content-Disposition", "").startswith("attachment"):
                if not (recent or case.download):
                    downloads.append(route.name)
                continue
            if "text/html" in response.get("Content-Type", ""):
                page = html.unescape(response.content.decode())
                granted = {c.code for c in roles.visible_categories(role)}
                for category, values in markers.items():
                    shown = [v for v in values if v and v in page]
                    if category in granted:
                        seen.update([category] if shown else [])
                    elif shown:
                        leaks.append(f"{route.name}: {role} sees {category} ({shown[0]!r})")
        if not reached and any(_allowed(r, permission) for r in ROLES):
            wrong.append(f"{route.name}: no role holding the permission reached it")
    assert not refused, "roles let in without the permission:\n" + "\n".join(refused)
    assert not wrong, "\n".join(wrong)
    assert not leaks, "categories shown to a service the declaration does not grant:\n" + "\n".join(
        leaks
    )
    assert not downloads, f"downloads without a recent re-authentication: {downloads}"
    # The check above means something only if each value is shown where it may be.
    assert seen == set(markers), f"never shown, even where granted: {set(markers) - seen}"


def test_the_acts_that_need_it_ask_for_a_recent_re_authentication(world):
    checked, failures = 0, []
    for route, case in _back_office():
        if case.public or not attribute(route.callback, "recent_auth", False):
            continue
        permission = attribute(route.callback, "staff_permission")
        role = next(r for r in ROLES if _allowed(r, permission))
        response = fetch(world.client_as(role, reauthenticated=False), world.url(case), case, world)
        checked += 1
        if response.request["REQUEST_METHOD"] == "POST":
            ok = (
                response.status_code == 200
                and "Confirmez votre identité" in response.content.decode()
            )
        else:
            ok = response.status_code == 302 and response["Location"].startswith(
                reverse("backoffice:reauthenticate")
            )
        if not ok:
            failures.append(f"{route.name}: {response.status_code}")
    assert checked >= 10 and not failures, "\n".join(failures)
