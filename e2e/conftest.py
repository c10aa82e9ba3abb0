"""Browser tests: Playwright driving the system's Chromium against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from conftest import CHROMIUM

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures
# in that same thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.nodeid.split("/")[0]:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


AUDIENCE_REPORTS = "**/statistiques/evenement/"


def _answer_locally(route) -> None:
    route.fulfill(status=204)


def _only_views_reach_the_server(route) -> None:
    # A page's "leave" report is sent as the page closes, when the test is over and its
    # database being emptied: it is answered here instead.
    if b'"t":"view"' in (route.request.post_data_buffer or b""):
        route.continue_()
    else:
        route.fulfill(status=204)


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser page. The site's audience reports are answered by the browser itself,
    so that no request reaches the server once a test is over (see ``measured_page``)."""
    yield from _page(browser, _answer_locally)


@pytest.fixture
def measured_page(browser) -> Iterator:
    """A page whose audience reports of pages shown reach the server (the tests of the
    measurement wait for each answer)."""
    yield from _page(browser, _only_views_reach_the_server)


def _page(browser, audience_route) -> Iterator:
    with browser_context(browser, audience_route=audience_route) as context:
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console",
            lambda msg: (
                page.csp_violations.append(msg.text)
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        yield page


@contextmanager
def browser_context(browser, *, audience_route=_answer_locally, **options) -> Iterator:
    """A browser context whose audience reports are answered by the browser itself (or as
    ``audience_route`` says), left safely however the test ends (see :func:`leave`). Tests that
    open their own contexts (a persona's session) use it rather than ``browser.new_context``."""
    context = browser.new_context(locale="fr-FR", **options)
    context.route(AUDIENCE_REPORTS, audience_route)
    try:
        yield context
    finally:
        leave(context)


def leave(context) -> None:
    """Close ``context`` so that nothing reaches a server whose test is over.

    A page sends its "leave" report as it is left: each page is left while the routes still
    answer it, and with the refusal cookie set for the whole site, so that a page of the site
    loaded meanwhile sends nothing at all.
    """
    from mutualis.privacy.catalogue import AUDIENCE_REFUSAL_COOKIE

    hosts = {urlsplit(page.url).hostname for page in context.pages if page.url.startswith("http")}
    if hosts:
        context.add_cookies(
            [
                {"name": AUDIENCE_REFUSAL_COOKIE, "value": "1", "domain": host, "path": "/"}
                for host in sorted(hosts)
            ]
        )
    for page in context.pages:
        if page.url.startswith("http"):
            page.goto("about:blank")
    context.close()
