"""The accessibility statement (RGAA): its status, its contact and the recourse, linked from
every public page."""

import pytest
from django.urls import reverse

from mutualis.lib.french import typography

pytestmark = pytest.mark.django_db


def test_the_statement_gives_its_status_contact_and_recourse(client, settings):
    response = client.get(reverse("web:accessibility"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Déclaration d'accessibilité</h1>" in body
    assert "partiellement conforme" in body and "RGAA" in body
    assert f'href="mailto:{settings.MUTUALIS_ORGANISATION["accessibility_email"]}"' in body
    assert "Défenseur des droits" in body and "Libre réponse 71120" in body


def test_every_public_page_links_to_the_statement_with_its_status(client):
    for name in ("web:home", "web:policy", "web:legal", "web:contact"):
        body = client.get(reverse(name)).content.decode()
        assert (
            f'<a href="{reverse("web:accessibility")}">'
            f"{typography('Accessibilité : partiellement conforme')}</a>" in body
        ), name
