"""Every back-office page: French, accessible landmarks, strict CSP, never cached."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mutualis.backoffice.testing import give_device, page_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(as_staff, bob, alice):
    """Every page a DPO can reach, plus the login pages of a fresh visitor."""
    client = as_staff(bob)
    detail = reverse("backoffice:member_detail", args=[alice.pk])
    responses = {
        "home": client.get(reverse("backoffice:home")),
        "search": client.get(reverse("backoffice:member_search"), {"q": "martin"}),
        "detail": client.get(detail),
        "staff": client.get(reverse("backoffice:staff_list")),
        "reveal-error": client.post(
            reverse("backoffice:reveal_nir", args=[alice.pk, alice.person_id]), {"reason": ""}
        ),
    }
    from django.test import Client

    visitor = Client()
    responses["login"] = visitor.get(reverse("backoffice:login"))
    return responses


def test_pages_have_no_inline_script_or_style(pages):
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), name
        assert "<style" not in body and " style=" not in body, name
        assert "unsafe-inline" not in response["Content-Security-Policy"], name


def test_pages_are_never_cached(pages):
    for name, response in pages.items():
        assert "no-store" in response["Cache-Control"], name


def test_pages_are_french_with_a_skip_link_and_one_h1(pages):
    for name, response in pages.items():
        body = response.content.decode()
        assert '<html lang="fr">' in body, name
        assert 'href="#contenu"' in body and 'id="contenu"' in body, name
        assert body.count("<h1") == 1, name


def test_every_input_has_a_label(pages):
    for name, response in pages.items():
        body = response.content.decode()
        for field_id in re.findall(r'<input[^>]*\bid="([^"]+)"', body):
            assert f'for="{field_id}"' in body, (name, field_id)


def test_no_page_holds_a_full_nir_or_iban(pages, alice):
    for response in pages.values():
        assert_no_full_nir_or_iban(response, alice)


def test_the_enrolment_page_shows_the_secret_as_text_and_uri(client, charlie):
    from conftest import PASSWORD

    client.post(reverse("backoffice:login"), {"username": charlie.email, "password": PASSWORD})
    response = client.get(reverse("backoffice:enrol"))
    text = page_text(response)
    assert "Clé secrète" in text and "otpauth://totp/Mutualis%3Acharlie%40mutuelle.example" in text
    assert "no-store" in response["Cache-Control"]
    assert " style=" not in text


def test_the_code_page_is_plain_and_french(client, bob):
    from conftest import PASSWORD

    give_device(bob)
    client.post(reverse("backoffice:login"), {"username": bob.email, "password": PASSWORD})
    response = client.get(reverse("backoffice:login_code"))
    assert "Code à 6 chiffres" in page_text(response)
    assert 'autocomplete="one-time-code"' in response.content.decode()
