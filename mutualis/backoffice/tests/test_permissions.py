"""One permission test per back-office view (architecture.md §14).

Anonymous → login; a member → 403; staff without a confirmed device → enrolment; staff with a
device but no second factor in the session → code; a role without the permission → 403; a role
with it → 200. Every answer forbids caching.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from mutualis.backoffice.testing import give_device, login_unverified, login_verified

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class View:
    name: str
    method: str
    allowed: str  # a role holding the permission
    refused: str | None  # a role without it (None: every staff role may open it)


VIEWS = [
    View("home", "get", "relation_adherent", None),
    View("member_search", "get", "relation_adherent", "admin"),
    View("member_detail", "get", "relation_adherent", "admin"),
    View("reveal_nir", "post", "gestion", "relation_adherent"),
    View("reveal_iban", "post", "cotisations", "relation_adherent"),
    View("staff_list", "get", "admin", "relation_adherent"),
]


def _url(view: View, member) -> str:
    kwargs = {
        "member_detail": {"member_id": member.pk},
        "reveal_nir": {"member_id": member.pk, "person_id": member.person_id},
        "reveal_iban": {"member_id": member.pk, "mandate_id": member.mandates.get().pk},
    }.get(view.name, {})
    return reverse(f"backoffice:{view.name}", kwargs=kwargs)


def _call(client, view: View, member):
    url = _url(view, member)
    if view.method == "post":
        return client.post(url, {"reason": "Demande de la caisse primaire"})
    return client.get(url)


@pytest.fixture(params=VIEWS, ids=lambda view: view.name)
def view(request):
    return request.param


def test_anonymous_is_sent_to_the_login(client, view, alice):
    response = _call(client, view, alice)
    assert response.status_code == 302
    assert response.url == f"{reverse('backoffice:login')}?next={_url(view, alice)}"
    assert "no-store" in response["Cache-Control"]


def test_a_member_is_refused(client, view, alice):
    login_unverified(client, alice.account)
    response = _call(client, view, alice)
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]


def test_staff_without_a_confirmed_device_is_sent_to_enrolment(client, view, alice, staff):
    user = staff(view.allowed)
    give_device(user, confirmed=False)
    login_unverified(client, user)
    response = _call(client, view, alice)
    assert response.status_code == 302 and response.url == reverse("backoffice:enrol")


def test_staff_without_the_second_factor_is_asked_for_the_code(client, view, alice, staff):
    user = staff(view.allowed)
    give_device(user)
    login_unverified(client, user)
    response = _call(client, view, alice)
    assert response.status_code == 302 and response.url == reverse("backoffice:login_code")


@pytest.mark.parametrize("guarded", [v for v in VIEWS if v.refused], ids=lambda v: v.name)
def test_a_role_without_the_permission_is_refused(client, guarded, alice, staff):
    view = guarded
    login_verified(client, staff(view.refused))
    response = _call(client, view, alice)
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]


def test_a_role_with_the_permission_is_served(client, view, alice, staff):
    login_verified(client, staff(view.allowed))
    response = _call(client, view, alice)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_dpo_may_open_every_view(client, alice, bob):
    login_verified(client, bob)
    for view in VIEWS:
        assert _call(client, view, alice).status_code == 200, view.name


def test_charlie_may_read_but_not_reveal(client, alice, charlie):
    login_verified(client, charlie)
    for view in VIEWS:
        expected = 200 if view.name in {"home", "member_search", "member_detail"} else 403
        assert _call(client, view, alice).status_code == expected, view.name
