"""Every public, member-space and back-office page passes axe-core (WCAG 2.1 A and AA) in real
Chromium with no violation, is usable by keyboard, and its forms announce their errors.

The pages are the security suite's (``mutualis.lib.pages``), so a new page is checked the day it
is covered; each persona visits its pages in one browser session, at a desktop width and, for
pages with tables, at a phone's.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

import pytest
from django.conf import settings

from conftest import IN_CI
from e2e.accessibility import AXE, KEYBOARD_PROBLEMS, SCROLL_REGIONS, violations
from e2e.conftest import browser_context
from mutualis.tests_security.pages_of_every_face import every_page
from mutualis.tests_security.world import World

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
# WCAG 2.1 reflow (1.4.10): content readable at 320 CSS pixels wide without scrolling the page
# sideways; a table that needs its width scrolls inside its own region.
PHONE = {"width": 320, "height": 640}


@pytest.fixture
def world(alice, dave, bob, charlie):
    if not AXE.exists():
        message = f"needs axe-core at {AXE}: run `make axe`"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return World(alice, dave, bob, charlie)


def _html_pages(world) -> dict[str, list[tuple]]:
    """Per persona, the (name, path, case, body) of every page that answers HTML to a GET."""
    pages = defaultdict(list)
    # Every object first, so that a list shows the rows other cases build (the approvals).
    paths = {case.name: world.url(case) for _route, case, _persona in every_page()}
    for route, case, persona in every_page():
        path = paths[case.name]
        client = world.client_as(persona)
        if case.setup:
            case.setup(client, world)
        response = client.get(path)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            pages[persona].append((route.name, path, case, response.content.decode()))
    return pages


@contextmanager
def _browser_session(browser, live_server, world, persona: str, case=None):
    """A browser context carrying a session made server-side for the persona (logged in with
    both factors, just re-authenticated), through its session cookie; its audience reports
    never reach the server, and it is left safely however the test ends."""
    client = world.client_as(persona)
    if case is not None and case.setup:
        case.setup(client, world)
    with browser_context(browser, viewport=DESKTOP) as context:
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is not None:
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        yield context


def test_every_page_passes_axe_and_is_usable_by_keyboard(browser, live_server, world):
    found, keyboard, visited = [], [], 0
    for persona, pages in _html_pages(world).items():
        with _browser_session(browser, live_server, world, persona) as context:
            page = context.new_page()
            for name, path, case, _body in pages:
                url, label = live_server.url + path, f"{name} ({persona})"
                visited += 1
                if case.setup:  # a page that needs its own state (a subscription under way)
                    with _browser_session(browser, live_server, world, persona, case) as own:
                        _check(own.new_page(), url, label, found, keyboard)
                else:
                    _check(page, url, label, found, keyboard)
    assert visited >= 60
    assert not found, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(map(str, found))
    assert not keyboard, "\n".join(keyboard)


def _check(page, url: str, label: str, found: list, keyboard: list) -> None:
    """axe and the keyboard checks on one page, at desktop width and, with tables, at 320 px."""
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    found += [f"{label} {v}" for v in violations(page)]
    keyboard += [f"{label}: {p}" for p in page.evaluate(KEYBOARD_PROBLEMS)]
    if page.locator("table").count():
        page.set_viewport_size(PHONE)
        found += [f"{label}, 320 px: {v}" for v in violations(page)]


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
        with _browser_session(browser, live_server, world, persona) as context:
            page = context.new_page()
            problems += _error_problems(page, live_server.url + path, path)
    assert not problems, "\n".join(map(str, problems))


def _error_problems(page, url: str, label: str) -> list[str]:
    """Submit the page's main form empty: the focus goes to the error summary, each field in
    error names its message, and the page with its errors passes axe."""
    page.goto(url)
    form = page.locator("main form[novalidate], main form.form").last
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state()
    problems = []
    if not page.evaluate("document.activeElement.classList.contains('error-summary')"):
        problems.append(f"{label}: the focus is not on the error summary")
    broken = page.evaluate(ERRORS_NOT_TIED)
    if broken or not page.locator("[aria-invalid=true]").count():
        problems.append(f"{label}: errors not tied to their fields {broken}")
    return problems + [f"{label} (errors) {v}" for v in violations(page)]


ERRORS_NOT_TIED = """() => [...document.querySelectorAll('[aria-invalid=true]')].filter(el => {
  const owner = el.hasAttribute('aria-describedby') ? el : el.closest('fieldset');
  const named = (owner && owner.getAttribute('aria-describedby')) || '';
  const ids = named.split(' ').filter(Boolean);
  return !ids.some(id => (document.getElementById(id)?.textContent || '').trim());
}).map(el => el.name)"""


def test_axe_finds_what_it_is_meant_to_find(page):
    """The suite's own check: on a page with a known fault, axe reports it."""
    page.set_content(
        '<html lang="fr"><head><title>t</title></head>'
        '<body><main><img src="x.png"></main></body></html>'
    )
    assert "image-alt" in {v["id"] for v in violations(page)}


def test_wide_tables_scroll_in_regions_the_keyboard_reaches(browser, live_server, world):
    """The probe's finding, on every covered page with a scrolling table (the access copy, the
    breach register, the staff list, the approvals...): at 320 px the page itself does not
    scroll sideways; whatever does scroll is a region with a name that takes the focus and
    scrolls by keyboard alone. The former styling (the table itself scrolling) fails axe."""
    problems, overflowing = [], []
    for persona, pages in _html_pages(world).items():
        with_regions = [p for p in pages if 'class="table-scroll"' in p[3]]
        if not with_regions:
            continue
        with _browser_session(browser, live_server, world, persona) as context:
            page = context.new_page()
            page.set_viewport_size(PHONE)
            for name, path, _case, _body in with_regions:
                page.goto(live_server.url + path)
                # Folded sections (the access copy's categories) are opened, as a reader does.
                page.evaluate(
                    "() => document.querySelectorAll('details').forEach(d => d.open = true)"
                )
                report = page.evaluate(SCROLL_REGIONS)
                problems += [f"{name}: {problem}" for problem in report["problems"]]
                if report["pageScrolls"]:
                    problems.append(f"{name}: the page itself scrolls sideways at 320 px")
                problems += [
                    f"{name}: {v}"
                    for v in violations(page)
                    if v["id"] == "scrollable-region-focusable"
                ]
                for index in report["overflowing"]:
                    overflowing.append(name)
                    if not _scrolls_by_keyboard(page, index):
                        problems.append(f"{name}: region {index} does not scroll by keyboard")
    assert not problems, "\n".join(problems)
    # The check means something only if wide tables do scroll, on each face that has them.
    expected = {"portal:rights_request", "backoffice:breach_register", "backoffice:staff_list"}
    assert expected <= set(overflowing), overflowing


def _scrolls_by_keyboard(page, index: int) -> bool:
    region = page.locator(".table-scroll").nth(index)
    region.focus()
    if not region.evaluate("el => el === document.activeElement"):
        return False
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # Browsers scroll smoothly: wait for it.
    page.wait_for_function(
        "i => document.querySelectorAll('.table-scroll')[i].scrollLeft > 0", arg=index
    )
    return True


def test_a_table_scrolling_by_itself_is_caught(browser, live_server, world):
    """The negative control: the access copy's tables (no link inside to reach by Tab) made to
    scroll by themselves, outside their regions, is what axe reports as
    ``scrollable-region-focusable``, and what the check above reports too."""
    with _browser_session(browser, live_server, world, "member") as context:
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.goto(live_server.url + world.url(_case("portal:rights_request")))
        assert not [v for v in violations(page) if v["id"] == "scrollable-region-focusable"]
        page.evaluate(
            "() => document.querySelectorAll('.table-scroll')"
            ".forEach(r => r.replaceWith(...r.childNodes))"
        )
        page.evaluate(  # the CSP refuses a style sheet; the object model may still restyle
            "() => document.querySelectorAll('table')"
            ".forEach(t => { t.style.display = 'block'; t.style.overflowX = 'auto'; })"
        )
        assert "scrollable-region-focusable" in {v["id"] for v in violations(page)}
        assert page.evaluate(SCROLL_REGIONS)["problems"]


def _case(name: str):
    return next(case for _route, case, _persona in every_page() if case.name == name)
