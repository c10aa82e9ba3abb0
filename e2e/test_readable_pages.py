"""The pages a DPO and a member read at length fit a 1280 px laptop screen: nothing wider than
the window, and the access copy short enough to read (a summary, categories folded)."""

from __future__ import annotations

import pytest
from django.test import Client

from mutualis.backoffice.testing import login_verified
from mutualis.members.models import User, UserKind
from mutualis.privacy import policy
from mutualis.rights import processing
from mutualis.rights.models import Kind

pytestmark = pytest.mark.django_db(transaction=True)
WIDTH = 1280


def _sessions(page, live_server, client: Client) -> None:
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def _measure(page) -> tuple[int, int]:
    return page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )


def test_the_register_fits_a_laptop_screen(page, live_server):
    policy.publish()
    dpo = User.objects.create_user(
        email="dpo-e2e@mutuelle.example", password="x" * 20, kind=UserKind.STAFF, role="dpo"
    )
    client = Client()
    login_verified(client, dpo)
    _sessions(page, live_server, client)
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(live_server.url + "/gestion/registre/")
    assert page.locator("article.register-card").count() >= 8
    width, height = _measure(page)
    assert width <= WIDTH
    # Nothing clipped inside its box either (the old ten-column table overflowed its frame).
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.register *')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1"
        " && getComputedStyle(e).overflowX != 'visible')"
        ".length"
    )
    assert clipped == 0
    print(f"register page at {WIDTH} px: {height} px high")


def test_the_access_copy_fits_a_laptop_screen(page, live_server, alice):
    request = processing.request_from_member_space(member=alice, kind=Kind.ACCESS)
    client = Client()
    client.force_login(alice.account)
    _sessions(page, live_server, client)
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(live_server.url + f"/espace/droits/demandes/{request.pk}/")
    assert page.get_by_role("heading", name="En résumé").is_visible()
    width, height = _measure(page)
    assert width <= WIDTH
    assert height < 15_000  # was about 52,000 px with the information beside every value
    print(f"access copy page at {WIDTH} px: {height} px high")
