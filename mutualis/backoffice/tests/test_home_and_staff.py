"""The staff home (service, mission, categories from the declaration) and the staff list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mutualis.backoffice.testing import give_device, page_text, visible_text
from mutualis.privacy import catalogue

pytestmark = pytest.mark.django_db

HOME = reverse("backoffice:home")


def test_home_shows_the_service_its_mission_and_its_categories(as_staff, colin):
    text = visible_text(as_staff(colin).get(HOME))
    service = catalogue.SERVICE_COTISATIONS
    assert f"Votre service : {service.label}" in text
    assert service.mission in text
    for category in service.categories:
        assert category.label in text
    for category in set(catalogue.ALL_CATEGORIES) - service.categories:
        assert f"{category.label} :" not in text
    assert "Afficher un IBAN en clair" in text
    assert "numéro de sécurité sociale en clair" not in text


def test_home_links_to_what_the_role_allows(as_staff, charlie, ada):
    charlie_home = page_text(as_staff(charlie).get(HOME))
    assert reverse("backoffice:member_search") in charlie_home
    assert reverse("backoffice:staff_list") not in charlie_home

    ada_home = page_text(as_staff(ada).get(HOME))
    assert reverse("backoffice:staff_list") in ada_home
    assert reverse("backoffice:member_search") not in ada_home


def test_staff_list_shows_each_account_service_and_second_factor(as_staff, ada, charlie, bob):
    give_device(bob)
    text = visible_text(as_staff(ada).get(reverse("backoffice:staff_list")))
    assert "charlie@mutuelle.example Relation adhérent à activer" in text
    assert "bob@mutuelle.example Délégué à la protection des données activée" in text


def test_staff_list_does_not_list_members(as_staff, ada, alice):
    text = page_text(as_staff(ada).get(reverse("backoffice:staff_list")))
    assert alice.account.email not in text
