"""The public site in a real browser."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from mutualis.privacy import catalogue

pytestmark = pytest.mark.django_db(transaction=True)

STRICTLY_NECESSARY = {"sessionid", "csrftoken"}


def test_home_page_renders_with_its_stylesheet(page, live_server):
    page.goto(live_server.url + "/")
    assert page.title().startswith("Accueil")
    assert page.locator("h1").inner_text() == "Votre complémentaire santé"
    # The stylesheet applied: the skip link is moved off screen until focused.
    assert page.locator(".skip-link").bounding_box()["x"] < 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0
    assert page.csp_violations == []


def test_policy_page_names_every_declared_purpose(page, live_server):
    call_command("publish_policy", stdout=io.StringIO())
    page.goto(live_server.url + "/confidentialite/")
    headings = page.locator("article.purpose h3").all_inner_texts()
    for purpose in catalogue.ALL_PURPOSES:
        assert any(purpose.title in h for h in headings), purpose.title
    assert page.csp_violations == []


def test_a_first_visit_sets_no_cookie_beyond_session_csrf_and_audience(page, live_server):
    for path in ["/", "/confidentialite/", "/cookies/", "/mentions-legales/", "/contact/"]:
        page.goto(live_server.url + path)
    names = {cookie["name"] for cookie in page.context.cookies()}
    # The audience cookie is exempt from consent (first-party, 13 months, opt-out on /cookies/).
    assert names <= STRICTLY_NECESSARY | {catalogue.AUDIENCE_COOKIE}


def test_navigation_works_by_keyboard(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Mentions légales").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/mentions-legales/")
    assert page.locator("h1").inner_text() == "Mentions légales"
