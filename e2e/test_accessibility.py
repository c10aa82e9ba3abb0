"""Every public, member-space and back-office page passes axe-core (WCAG 2.1 A and AA) in real
Chromium with no violation, is usable by keyboard, and its forms announce their errors.

The pages are the security suite's (``mutualis.lib.pages``), so a new page is checked the day it
is covered, and the pages reached only after earlier steps (``tests_security.states``: the staff
login's code, enrolment (QR code) and recovery steps, password forms behind valid links, every
subscription step, back-office records in each state). Each persona visits its plain pages in
one browser session; a page needing a state of its own gets a session of its own. Pages are
checked at a desktop width and, with tables, at 320 px (WCAG reflow).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.conf import settings

from conftest import IN_CI
from e2e.accessibility import AXE, KEYBOARD_PROBLEMS, SCROLL_REGIONS, violations
from e2e.conftest import browser_context
from mutualis.privacy.catalogue import AUDIENCE_REFUSAL_COOKIE
from mutualis.tests_security.pages_of_every_face import every_page
from mutualis.tests_security.states import every_state
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


@dataclass(frozen=True)
class Visit:
    """One HTML page to check: ``path`` for a plain page, or ``reach(client, world)`` that
    prepares a session of its own (a subscription under way, a password just given) and returns
    the path."""

    label: str
    persona: str
    path: str = ""
    reach: Callable | None = None
    body: str = ""


def _visits(world) -> dict[str, list[Visit]]:
    """Per persona, every covered page that answers HTML to a GET, and every state."""
    visits = defaultdict(list)
    # Every object first, so that a list shows the rows other cases build (the approvals).
    paths = {case.name: world.url(case) for _route, case, _persona in every_page()}
    for route, case, persona in every_page():
        path = paths[case.name]
        client = world.client_as(persona)
        if case.setup:
            case.setup(client, world)
        response = client.get(path)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            reach = None
            if case.setup:
                reach = lambda client, w, c=case, p=path: (c.setup(client, w), p)[1]  # noqa: E731
            body = response.content.decode()
            visits[persona].append(Visit(route.name, persona, path, reach, body))
    for state in every_state():
        label = f"{state.name} ({state.label})"
        visits[state.persona].append(Visit(label, state.persona, reach=state.reach))
    return visits


@contextmanager
def _browser_session(browser, live_server, world, persona: str, reach=None):
    """A browser context carrying a session made server-side for the persona (logged in with
    both factors, just re-authenticated), through its session cookie; its audience reports
    never reach the server, and it is left safely however the test ends. With ``reach``, the
    session is first brought to its page; the context's ``path`` is that page's."""
    client = world.client_as(persona)
    path = reach(client, world) if reach is not None else ""
    with browser_context(browser, viewport=DESKTOP) as context:
        # The audience measurement refused from the start: no page loads its script, so no
        # report can reach the server, even from a page left in the middle of a navigation.
        cookies = [{"name": AUDIENCE_REFUSAL_COOKIE, "value": "1", "url": live_server.url}]
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is not None:
            cookies.append({"name": cookie.key, "value": cookie.value, "url": live_server.url})
        context.add_cookies(cookies)
        context.path = path
        yield context


@contextmanager
def _opened(browser, live_server, world, visit: Visit, shared):
    """A browser page on ``visit``: the persona's shared page, or one of its own session."""
    if visit.reach is None:
        shared.goto(live_server.url + visit.path)
        yield shared
        return
    with _browser_session(browser, live_server, world, visit.persona, visit.reach) as own:
        page = own.new_page()
        page.goto(live_server.url + own.path)
        yield page


def test_every_page_passes_axe_and_is_usable_by_keyboard(browser, live_server, world):
    found, keyboard, visited = [], [], 0
    for persona, visits in _visits(world).items():
        with _browser_session(browser, live_server, world, persona) as context:
            shared = context.new_page()
            for visit in visits:
                shared.set_viewport_size(DESKTOP)
                with _opened(browser, live_server, world, visit, shared) as page:
                    visited += 1
                    _check(page, f"{visit.label} ({persona})", found, keyboard)
    assert visited >= 100
    assert not found, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(map(str, found))
    assert not keyboard, "\n".join(keyboard)


def _check(page, label: str, found: list, keyboard: list) -> None:
    """axe and the keyboard checks on the page shown, at desktop width and, with tables, at
    320 px."""
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


def test_forms_move_the_focus_to_their_error_summary_and_tie_each_error_to_its_field(
    browser, live_server, world
):
    """Every form of every page (the states' too) with a field to fill, sent with its fields
    emptied (the browser's own checks set aside: the server's answer is what is tested)."""
    problems, checked, seen = [], 0, set()
    for persona, visits in _visits(world).items():
        with _browser_session(browser, live_server, world, persona) as context:
            shared = context.new_page()
            for visit in visits:
                with _opened(browser, live_server, world, visit, shared) as page:
                    url = page.url
                    forms = [f for f in page.evaluate(FORMS_TO_FILL) if f["action"] not in seen]
                for form in forms:
                    seen.add(form["action"])
                    with _opened(browser, live_server, world, visit, shared) as page:
                        if page.url != url:  # reached again elsewhere (a link spent)
                            continue
                        checked += 1
                        label = f"{visit.label} ({persona}), form {form['action']}"
                        problems += _error_problems(page, form, label)
    assert checked >= 40
    assert not problems, "\n".join(map(str, problems))


# The POST forms of the page's main content with a field the person must fill.
FORMS_TO_FILL = """() => [...document.querySelectorAll('main form')].map((form, index) => ({
  index,
  // (not form.action: a field named "action" would stand in its place)
  action: new URL(form.getAttribute('action') || location.href, location.href).href,
  post: (form.getAttribute('method') || '').toLowerCase() === 'post',
  required: form.querySelectorAll(
    'input[required]:not([type=hidden]), select[required], textarea[required]').length,
})).filter(f => f.post && f.required)"""

# Empty every field of the form a person fills, and send it as its first button does.
EMPTIED_AND_SENT = """index => {
  const form = document.querySelectorAll('main form')[index];
  for (const el of form.elements) {
    if (el.disabled || ['hidden', 'submit', 'button'].includes(el.type)) continue;
    if (el.type === 'checkbox' || el.type === 'radio') el.checked = false;
    else if (el.tagName === 'SELECT') {
      const empty = [...el.options].findIndex(o => o.value === '');
      if (empty >= 0) el.selectedIndex = empty;
    } else el.value = '';
  }
  form.noValidate = true;
  const button = form.querySelector('button[type=submit], input[type=submit], button:not([type])');
  if (button) button.click(); else form.requestSubmit();
}"""


def _error_problems(page, form: dict, label: str) -> list[str]:
    """Send the form emptied: the focus goes to the error summary, each field in error names
    its message, and the page with its errors passes axe. An act refused by a return to its
    record (the form not shown again) says why in an error summary that takes the focus."""
    with page.expect_navigation():
        page.evaluate(EMPTIED_AND_SENT, form["index"])
    problems = []
    if not page.evaluate("document.activeElement.classList.contains('error-summary')"):
        problems.append(f"{label}: the focus is not on the error summary")
    shown_again = page.url.split("#")[0] == form["action"].split("#")[0]
    broken = page.evaluate(ERRORS_NOT_TIED)
    if broken or (shown_again and not page.locator("[aria-invalid=true]").count()):
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
    for persona, visits in _visits(world).items():
        with_regions = [v for v in visits if 'class="table-scroll"' in v.body and not v.reach]
        if not with_regions:
            continue
        with _browser_session(browser, live_server, world, persona) as context:
            page = context.new_page()
            page.set_viewport_size(PHONE)
            for visit in with_regions:
                name = visit.label
                page.goto(live_server.url + visit.path)
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
