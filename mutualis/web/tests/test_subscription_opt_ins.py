"""Communication choices offered at subscription: unticked boxes, each an opt-in under its
notice, recorded as consents only for what was ticked."""

from __future__ import annotations

import pytest

from mutualis.consent import notices
from mutualis.consent.models import ConsentEvent, Source
from mutualis.contracts.models import Contract
from mutualis.web.tests.test_subscription import (
    ACCEPT,
    CONTACT,
    SCHEME,
    START,
    browser,  # noqa: F401 - fixture
    child,
    confirm,
    identity,
    iban,  # noqa: F401 - fixture
    nir,  # noqa: F401 - fixture
    offer,
    offers_and_policy,  # noqa: F401 - fixture
    payment,
    url,
)

pytestmark = pytest.mark.django_db


def _walk(browser, nir, iban, contact):
    browser.post(START)
    for slug, data in [
        ("identite", identity(nir)),
        ("coordonnees", contact),
        ("regime-obligatoire", SCHEME),
        ("beneficiaires", child()),
        ("beneficiaires", {"action": "continue"}),
        ("paiement", payment(iban)),
        ("formule", offer()),
        ("conditions", ACCEPT),
    ]:
        assert browser.post(url(slug), data).status_code == 302, slug


def test_the_contact_step_offers_every_communication_unticked_with_its_notice(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    page = browser.get(url("coordonnees")).content.decode()
    boxes = [
        f"communication_{topic}_{channel}"
        for topic in ("newsletter", "offers", "surveys")
        for channel in ("email", "post")
    ]
    for name in boxes:
        assert f'name="{name}"' in page
        tag = page[page.index(f'name="{name}"') - 80 : page.index(f'name="{name}"') + 80]
        assert "checked" not in tag
    assert notices.current_notice("offers").text.replace("'", "&#x27;") in page


def test_what_is_ticked_becomes_a_consent_under_the_notice_shown_and_nothing_else(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    contact = {**CONTACT, "communication_newsletter_email": "on"}
    _walk(browser, nir, iban, contact)
    confirm(browser, django_capture_on_commit_callbacks)
    person = Contract.objects.get().member.person
    (event,) = ConsentEvent.objects.filter(person=person)
    assert (event.topic, event.channel, event.action, event.source) == (
        "newsletter",
        "email",
        "granted",
        Source.SUBSCRIPTION,
    )
    assert event.notice == notices.current_notice("newsletter")


def test_a_box_ticked_comes_back_ticked_when_the_step_is_revisited(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    browser.post(url("coordonnees"), {**CONTACT, "communication_surveys_post": "on"})
    page = browser.get(url("coordonnees")).content.decode()
    at = page.index('name="communication_surveys_post"')
    assert "checked" in page[at - 80 : at + 80]


def test_nothing_ticked_records_no_consent(browser, nir, iban, django_capture_on_commit_callbacks):
    _walk(browser, nir, iban, CONTACT)
    confirm(browser, django_capture_on_commit_callbacks)
    assert not ConsentEvent.objects.exists()
