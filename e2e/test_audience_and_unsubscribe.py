"""Cookies, first-party audience measurement and the one-click unsubscribe in a real browser.

The live server runs in this process, so the database checks see its writes.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from mutualis.audience.models import AudienceEvent
from mutualis.consent import campaigns, sending, services
from mutualis.consent.models import Source
from mutualis.privacy import catalogue
from mutualis.web.campaigns.links import campaign_links

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED_ON_FIRST_VISIT = {"sessionid", "csrftoken", catalogue.AUDIENCE_COOKIE}


def _names(page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def _is_view_report(response) -> bool:
    # Not the previous page's "leave" report, which the browser answers itself (conftest).
    return response.url.endswith("/statistiques/evenement/") and b'"t":"view"' in (
        response.request.post_data_buffer or b""
    )


def _visit(page, url):
    """Open ``url`` and wait for the page's own audience report to be answered."""
    with page.expect_response(_is_view_report) as report:
        page.goto(url)
    assert report.value.status == 204


def test_a_first_visit_sets_only_session_csrf_and_the_audience_cookie(measured_page, live_server):
    page = measured_page
    for path in ["/", "/confidentialite/", "/cookies/", "/contact/", "/espace/connexion/"]:
        _visit(page, live_server.url + path)
    names = _names(page)
    assert catalogue.AUDIENCE_COOKIE in names
    assert names <= ALLOWED_ON_FIRST_VISIT
    cookie = next(c for c in page.context.cookies() if c["name"] == catalogue.AUDIENCE_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert AudienceEvent.objects.filter(kind="view").count() == 5
    assert set(AudienceEvent.objects.values_list("browser", flat=True)) == {"Chrome"}
    assert page.csp_violations == []


def test_an_opt_out_removes_the_cookie_and_nothing_is_recorded_afterwards(
    measured_page, live_server
):
    page = measured_page
    _visit(page, live_server.url + "/")
    assert catalogue.AUDIENCE_COOKIE in _names(page)
    _visit(page, live_server.url + "/cookies/")  # its own report answered before the click
    page.get_by_role("button", name="Refuser la mesure d'audience").click()
    expect(page.get_by_text("Votre choix est enregistré")).to_be_visible()
    assert catalogue.AUDIENCE_COOKIE not in _names(page)
    assert catalogue.AUDIENCE_REFUSAL_COOKIE in _names(page)
    left = list(AudienceEvent.objects.values_list("kind", "page", "at"))
    assert not left, left  # this browser's earlier events went too
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "statistiques" in r.url else None)
    for path in ["/", "/confidentialite/", "/contact/"]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert requests == []  # the script is not even loaded any more
    assert not AudienceEvent.objects.exists()
    assert catalogue.AUDIENCE_COOKIE not in _names(page)
    assert page.csp_violations == []


def test_the_one_click_unsubscribe_works_in_the_browser_and_from_a_mail_client(
    page, live_server, smtp_server, alice, dave, bob, settings
):
    settings.MUTUALIS_SITE_URL = live_server.url
    for member in (alice, dave):
        services.grant(
            person=member.person, topic="offers", channel="email", source=Source.MEMBER_SPACE
        )
    campaign = campaigns.create_campaign(
        title="Offres d'automne",
        kind="offers",
        channel="email",
        subject="Nos offres",
        body="Bonjour {prenom}",
        actor=bob,
    )
    campaign = campaigns.start_sending(campaign=campaign, actor=bob)
    sending.send_campaign(campaign=campaign, links=campaign_links(), rate=0)
    links = {
        m.rcpt_tos[0]: m.message["List-Unsubscribe"].strip()[1:-1]
        for m in smtp_server.messages
        if m.message["List-Unsubscribe"]  # not the accounts' activation messages
    }
    assert set(links) == {alice.account.email, dave.account.email}
    # Alice clicks the link in her message and presses the button.
    page.goto(links[alice.account.email])
    page.get_by_role("button", name="Me désinscrire").click()
    expect(page.get_by_role("heading", name="Désinscription enregistrée")).to_be_visible()
    assert not services.current_preferences(alice.person)[("offers", "email")]
    assert page.csp_violations == []
    # Dave's mail client does it by itself: a POST of the header's body, no cookie, no page.
    response = page.context.request.post(
        links[dave.account.email], form={"List-Unsubscribe": "One-Click"}
    )
    assert response.status == 200
    assert not services.current_preferences(dave.person)[("offers", "email")]


def _wait_for(condition, what: str) -> None:
    """Wait until ``condition()`` holds: a report sent as a page is left (``sendBeacon``) is
    neither routed nor seen by the browser's tools, only by the server."""
    deadline = time.monotonic() + 30  # a safety net against a hung test, not a speed check
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_a_leave_report_reaches_the_server_and_after_an_opt_out_nothing_is_recorded(
    browser, live_server, monkeypatch
):
    """Every report is let through to the server here. A report sent as a page is left
    (``sendBeacon`` on ``visibilitychange``) is not even seen by the browser's routes: the
    server is watched instead, through the endpoint's own question (does this browser refuse?),
    which it asks of every report before anything else."""
    from e2e.conftest import browser_context
    from mutualis.web import audience as endpoint

    answers = []  # (kind, refused) of every report the server received, in order
    refuses = endpoint.refuses

    def spy(request):
        refused = refuses(request)
        if request.path == "/statistiques/evenement/":  # not the pages asking whether to measure
            answers.append((json.loads(request.body).get("t"), refused))
        return refused

    monkeypatch.setattr(endpoint, "refuses", spy)
    with browser_context(browser, audience_route=lambda route: route.continue_()) as context:
        page = context.new_page()
        _visit(page, live_server.url + "/")
        # Leaving the home page reports how long it stayed visible.
        _visit(page, live_server.url + "/confidentialite/")
        _wait_for(lambda: AudienceEvent.objects.filter(kind="leave").exists(), "a leave report")
        leave = AudienceEvent.objects.get(kind="leave")
        assert leave.page == "web:home" and leave.duration_ms is not None
        assert AudienceEvent.objects.filter(kind="view").count() == 2

        _visit(page, live_server.url + "/cookies/")
        before = len(answers)
        page.get_by_role("button", name="Refuser la mesure d'audience").click()
        expect(page.get_by_text("Votre choix est enregistré")).to_be_visible()
        # The cookies page's own "leave", sent as it was left, arrives with the refusal set.
        _wait_for(lambda: ("leave", True) in answers[before:], "the refused leave report")
        assert ("leave", False) not in answers[before:]
        assert not AudienceEvent.objects.exists()  # the refusal took this browser's events too
        before = len(answers)
        for path in ["/", "/contact/", "/confidentialite/"]:  # no script: no view, no leave
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
        assert answers[before:] == []
        assert not AudienceEvent.objects.exists()
