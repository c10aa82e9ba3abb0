"""The generated policy states what is really processed for 1-D and II, from the declaration."""

from __future__ import annotations

import html

from django.utils.html import strip_tags

from mutualis.privacy import catalogue
from mutualis.privacy.policy import render_policy_body


def _text() -> str:
    return " ".join(html.unescape(strip_tags(render_policy_body())).split())


def test_section_ii_lists_every_declared_cookie_with_its_life():
    text = _text()
    for cookie in catalogue.declared_cookies():
        assert cookie.name in text
        assert cookie.lifetime[:1].upper() + cookie.lifetime[1:] in text
    assert "13 mois au plus à compter de votre première visite, jamais prolongé" in text


def test_the_audience_measurement_is_stated_with_its_retention_and_its_opt_out():
    text = _text()
    assert " ".join(catalogue.AUDIENCE_STATISTICS.description.split()) in text
    assert catalogue.RETENTION_AUDIENCE.summary in text
    assert "agrégation anonyme" in text
    for measured in (
        "navigateur utilisé",
        "durée des visites",
        "pages visitées",
        "fréquence de retour",
    ):
        assert measured in text


def test_section_1_d_says_where_ip_addresses_and_session_durations_go():
    text = _text()
    description = " ".join(catalogue.WEBSITE.description.split())
    assert description in text
    assert "adresse tronquée" in description and "6 mois au plus" in description
    assert "durée de vos sessions de connexion est mesurée" in description


def test_the_printer_is_a_declared_recipient_of_postal_campaigns():
    assert catalogue.PRINTER in catalogue.COMMUNICATION.recipients
    assert catalogue.PRINTER.categories == {catalogue.IDENTITY, catalogue.CONTACT}
    assert "Prestataire d'impression" in _text()
