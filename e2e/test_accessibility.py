"""Every public, member-space and back-office page passes axe-core (WCAG 2.1 A and AA) in real
Chromium with no violation, is usable by keyboard, and its forms announce their errors.

The pages are the security suite's (``mutualis.lib.pages``), so a new page is checked the day it
is covered; each persona visits its pages in one browser session, at a desktop width and, for
pages with tables, at a phone's.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.conf import settings

from conftest import IN_CI
from e2e.accessibility import AXE, KEYBOARD_PROBLEMS, violations
from mutualis.tests_security.pages_of_every_face import every_page
from mutualis.tests_security.world import World

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(alice, dave, bob, charlie):
    if not AXE.exists():
        message = f"needs axe-core at {AXE}: run `make axe`"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return World(alice, dave, bob, charlie)


def _html_pages(world) -> dict[str, list[tuple[str, str]]]:
    """Per persona, the (name, path) of every page that answers HTML to a GET."""
    pages = defaultdict(list)
    for route, case, persona in every_page():
        path = world.url(case)
        client = world.client_as(persona)
        if case.setup:
            case.setup(client, world)
        response = client.get(path)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            pages[persona].append((route.name, path, case))
    return pages


def _browser_session(browser, live_server, world, persona: str, case=None):
    """A browser context carrying a session made server-side for the persona (logged in with
    both factors, just re-authenticated), through its session cookie."""
    client = world.client_as(persona)
    if case is not None and case.setup:
        case.setup(client, world)
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if cookie is not None:
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def test_every_page_passes_axe_and_is_usable_by_keyboard(browser, live_server, world):
    found, keyboard, visited = [], [], 0
    for persona, pages in _html_pages(world).items():
        context = _browser_session(browser, live_server, world, persona)
        page = context.new_page()
        for name, path, case in pages:
            if case.setup:  # a page that needs its own state (a subscription under way)
                own = _browser_session(browser, live_server, world, persona, case)
                target = own.new_page()
            else:
                own, target = None, page
            target.set_viewport_size(DESKTOP)
            target.goto(live_server.url + path)
            visited += 1
            found += [f"{name} ({persona}) {v}" for v in violations(target)]
            keyboard += [f"{name}: {p}" for p in target.evaluate(KEYBOARD_PROBLEMS)]
            if target.locator("table").count():
                target.set_viewport_size(PHONE)
                found += [f"{name} ({persona}, phone) {v}" for v in violations(target)]
            if own is not None:
                own.close()
        context.close()
    assert visited >= 60
    assert not found, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(map(str, found))
    assert not keyboard, "\n".join(keyboard)


FIRST_FOCUSABLE = """() => [
  ...document.querySelectorAll('a[href], button, input, select, textarea')
].find(el => el.tabIndex >= 0 && !el.closest('[aria-hidden="true"]')).className"""


def test_the_skip_link_comes_first_and_leads_to_the_content_on_every_face(page, live_server):
    for path in ("/", "/espace/connexion/", "/gestion/connexion/"):
        page.goto(live_server.url + path)
        assert page.evaluate(FIRST_FOCUSABLE) == "skip-link", path
        page.locator(".skip-link").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "contenu", path


FORMS = [
    ("anonymous", "/contact/"),
    ("anonymous", "/espace/connexion/"),
    ("member", "/espace/messages/nouveau/"),
    ("admin", "/gestion/personnels/inviter/"),
    ("dpo", "/gestion/violations/nouvelle/"),
    ("dpo", "/gestion/droits/enregistrer/"),
]


def test_forms_move_the_focus_to_their_error_summary_and_tie_each_error_to_its_field(
    browser, live_server, world
):
    problems = []
    for persona, path in FORMS:
        context = _browser_session(browser, live_server, world, persona)
        page = context.new_page()
        page.goto(live_server.url + path)
        form = page.locator("main form[novalidate], main form.form").last
        form.locator("button[type=submit]").last.click()
        page.wait_for_load_state()
        focused = page.evaluate("document.activeElement.classList.contains('error-summary')")
        if not focused:
            problems.append(f"{path}: the focus is not on the error summary")
        broken = page.evaluate(
            """() => [...document.querySelectorAll('[aria-invalid=true]')].filter(el => {
                 const owner = el.hasAttribute('aria-describedby') ? el : el.closest('fieldset');
                 const named = (owner && owner.getAttribute('aria-describedby')) || '';
                 const ids = named.split(' ').filter(Boolean);
                 return !ids.some(id => (document.getElementById(id)?.textContent || '').trim());
               }).map(el => el.name)"""
        )
        if broken or not page.locator("[aria-invalid=true]").count():
            problems.append(f"{path}: errors not tied to their fields {broken}")
        problems += [f"{path} (errors) {v}" for v in violations(page)]
        context.close()
    assert not problems, "\n".join(map(str, problems))


def test_axe_finds_what_it_is_meant_to_find(page):
    """The suite's own check: on a page with a known fault, axe reports it."""
    page.set_content(
        '<html lang="fr"><head><title>t</title></head>'
        '<body><main><img src="x.png"></main></body></html>'
    )
    assert "image-alt" in {v["id"] for v in violations(page)}


def test_wide_tables_scroll_in_regions_the_keyboard_reaches(browser, live_server, world):
    """The probe's finding: at a phone's width the register's table scrolls, inside a region
    that takes the focus; the former styling (the table itself scrolling) fails the same rule."""
    context = _browser_session(browser, live_server, world, "dpo")
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/gestion/registre/")
    region = page.locator(".table-scroll").first
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")  # it does scroll
    assert not [v for v in violations(page) if v["id"] == "scrollable-region-focusable"]
    region.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # Scrolled by keyboard alone (browsers scroll smoothly: wait for it).
    page.wait_for_function("() => document.querySelector('.table-scroll').scrollLeft > 0")
    page.evaluate(
        "() => document.querySelectorAll('.table-scroll')"
        ".forEach(r => r.replaceWith(...r.childNodes))"
    )
    page.evaluate(  # the CSP refuses a style sheet; the object model may still restyle
        "() => document.querySelectorAll('table')"
        ".forEach(t => { t.style.display = 'block'; t.style.overflowX = 'auto'; })"
    )
    assert "scrollable-region-focusable" in {v["id"] for v in violations(page)}
    context.close()
