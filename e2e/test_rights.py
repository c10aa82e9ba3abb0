"""« Mes droits » in a real browser: a member asks for a copy of her data and downloads it, objects
to marketing in one click, then asks for erasure (what goes, what stays and why).

The member subscribes through the subscription service (the data typed at subscription is what
the copy must hold); the live server runs in this process, so the database checks see its writes.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from mutualis.consent.services import has_objected_to_marketing
from mutualis.contracts import services as contracts
from mutualis.contracts.testing import child_of, ensure_offers, make_application, make_person_data
from mutualis.members.models import Person
from mutualis.rights.models import Kind, RightsRequest, Status

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Un mot de passe assez long 2026"
EMAIL = "helene.rousseau@example.org"


def _subscribed_member():
    """A member who subscribed (with a child), with a password to log in."""
    ensure_offers()
    rng = random.Random(23)
    person = make_person_data(first_names="Hélène", last_name="Rousseau", email=EMAIL, rng=rng)
    application = make_application(member=person, beneficiaries=[child_of(person)], rng=rng)
    contract = contracts.subscribe(application=application)
    account = contract.member.account
    account.set_password(PASSWORD)
    account.save()
    return contract.member, person


def _strings(value):
    """Every string in a JSON document (keys excluded)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _open_right(page, live_server, title: str) -> None:
    page.get_by_role("link", name="Mes droits", exact=True).first.click()
    page.wait_for_url(live_server.url + "/espace/droits/")
    page.get_by_role("link", name=title).click()


def test_a_member_downloads_her_data_objects_to_marketing_and_asks_for_erasure(page, live_server):
    member, typed = _subscribed_member()

    # --- Log in -------------------------------------------------------------------------------
    page.goto(live_server.url + "/espace/connexion/")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + "/espace/")

    # --- Access: the copy, downloaded as JSON ---------------------------------------------------
    _open_right(page, live_server, "Obtenir une copie de mes données")
    page.get_by_role("button", name="Obtenir la copie de mes données").click()
    page.wait_for_url(re.compile(r"/espace/droits/demandes/[0-9a-f-]+/$"))
    assert "C'est fait" in page.locator("main").inner_text()
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Télécharger la copie de mes données (JSON)").click()
    download = waiting.value
    assert download.suggested_filename.endswith(".json")
    with open(download.path(), encoding="utf-8") as file:
        copy = json.load(file)
    values = set(_strings(copy))
    assert typed.last_name in values
    assert typed.nir in values  # decrypted for the person herself
    assert EMAIL in values
    access = RightsRequest.objects.get(kind=Kind.ACCESS)
    assert access.status == Status.ANSWERED and access.person_id == member.person_id

    # --- Objection to marketing: one click, confirmed at once ---------------------------------
    _open_right(page, live_server, "M'opposer à la prospection")
    page.get_by_role("button", name="Je m'oppose à la prospection").click()
    page.wait_for_url(re.compile(r"/espace/droits/demandes/[0-9a-f-]+/$"))
    main = page.locator("main").inner_text()
    assert "C'est fait" in main and "prend effet immédiatement" in main
    assert has_objected_to_marketing(Person.objects.get(pk=member.person_id))

    # --- Erasure: what goes, what the law keeps and why, then the answer --------------------------
    _open_right(page, live_server, "Faire effacer mes données")
    page.wait_for_url(live_server.url + "/espace/droits/effacement/")
    confirmation = page.locator("main").inner_text()
    assert "Ce qui sera effacé immédiatement" in confirmation
    assert "Ce qui sera conservé, et pourquoi" in confirmation
    assert "est en cours" in confirmation  # the running contract keeps what it needs
    kept = page.locator("h2", has_text="Ce qui sera conservé").locator(
        "xpath=following-sibling::ul[1]"
    )
    assert kept.locator("li").count() >= 1
    assert "\u00a0: " in kept.locator("li").first.inner_text()  # each kept item says why
    page.get_by_role("button", name="Effacer mes données").click()
    # Not confirmed: the form says so, nothing is erased.
    assert "Cochez la case pour confirmer" in page.locator("main").inner_text()
    assert not RightsRequest.objects.filter(kind=Kind.ERASURE).exists()
    page.get_by_label("J'ai lu ce qui sera effacé").check()
    page.get_by_role("button", name="Effacer mes données").click()
    page.wait_for_url(re.compile(r"/espace/droits/demandes/[0-9a-f-]+/$"))
    result = page.locator("main").inner_text()
    assert "Effacement" in page.locator("h1").inner_text()
    assert "Notre réponse" in result and "CNIL" in result
    erasure = RightsRequest.objects.get(kind=Kind.ERASURE)
    assert erasure.status == Status.ANSWERED
    assert page.csp_violations == []
