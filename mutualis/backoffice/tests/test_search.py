"""Member search: names, number, e-mail; NIR only by POST, through the blind index, audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.members.reveal import format_nir
from mutualis.backoffice.tags import BackofficeTag
from mutualis.backoffice.testing import page_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban

pytestmark = pytest.mark.django_db

SEARCH = reverse("backoffice:member_search")


def _detail(member) -> str:
    return reverse("backoffice:member_detail", args=[member.pk])


@pytest.mark.parametrize("query", ["martin", "ALICE", "alice martin", "Martin Alice"])
def test_it_finds_by_name_case_insensitively(as_staff, charlie, alice, dave, query):
    response = as_staff(charlie).get(SEARCH, {"q": query})
    text = page_text(response)
    assert _detail(alice) in text and _detail(dave) not in text


def test_it_finds_by_member_number_exactly(as_staff, charlie, alice, dave):
    client = as_staff(charlie)
    assert _detail(alice) in page_text(client.get(SEARCH, {"q": alice.number.lower()}))
    assert _detail(alice) not in page_text(client.get(SEARCH, {"q": alice.number[:-1]}))


@pytest.mark.parametrize("query", ["alice@example.org", "alice@", "@example.org"])
def test_it_finds_by_email(as_staff, charlie, alice, query):
    assert _detail(alice) in page_text(as_staff(charlie).get(SEARCH, {"q": query}))


def test_it_finds_a_member_through_a_beneficiary_name(as_staff, charlie, alice, dave):
    child = alice.beneficiaries.get().person
    text = page_text(as_staff(charlie).post(SEARCH, {"q": child.first_names}))
    assert _detail(alice) in text


def test_the_search_form_posts(as_staff, charlie, alice):
    text = page_text(as_staff(charlie).get(SEARCH))
    assert f'<form method="post" action="{SEARCH}"' in text


def test_the_nir_search_finds_the_person_through_the_blind_index(as_staff, gina, alice, dave):
    nir = alice.person.nir
    client = as_staff(gina)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(SEARCH, {"q": format_nir(nir)})

    wheres = [q["sql"].split(" WHERE ", 1)[1] for q in queries if " WHERE " in q["sql"]]
    assert any('"nir_index" =' in where for where in wheres)
    assert not any('"nir" =' in where or '"nir" IN' in where for where in wheres)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == SEARCH and not response.request["QUERY_STRING"]
    text = page_text(response)
    assert _detail(alice) in text and _detail(dave) not in text
    assert_no_full_nir_or_iban(response, alice)
    event = Event.objects.get(tag=BackofficeTag.NIR_SEARCH)
    assert event.actor == f"user:{gina.pk}"
    assert event.subject_id == str(alice.person_id)
    assert event.details == {"found": 1}
    assert nir not in str(event.details) and nir not in event.target


def test_an_unknown_nir_finds_nobody_and_is_audited(as_staff, gina, alice):
    response = as_staff(gina).post(SEARCH, {"q": "295109912611193"})
    assert "Aucun adhérent" in page_text(response)
    event = Event.objects.get(tag=BackofficeTag.NIR_SEARCH)
    assert event.subject_id == "" and event.details == {"found": 0}


def test_a_nir_in_the_url_is_refused_and_not_echoed(as_staff, gina, alice):
    nir = alice.person.nir
    response = as_staff(gina).get(SEARCH, {"q": nir})

    text = page_text(response)
    assert "utilisez le formulaire" in text
    assert _detail(alice) not in text
    assert_no_full_nir_or_iban(response, alice)
    assert not Event.objects.filter(tag=BackofficeTag.NIR_SEARCH).exists()


def test_a_service_without_administrative_data_cannot_search_by_nir(as_staff, charlie, alice):
    response = as_staff(charlie).post(SEARCH, {"q": alice.person.nir})
    text = page_text(response)
    assert "n'a pas accès au numéro de sécurité sociale" in text
    assert _detail(alice) not in text
    assert_no_full_nir_or_iban(response, alice)


def test_a_nir_without_its_key_is_refused(as_staff, gina, alice):
    response = as_staff(gina).post(SEARCH, {"q": alice.person.nir[:13]})
    assert "15 caractères" in page_text(response)
    assert alice.person.nir[:13] not in page_text(response)


def test_an_iban_is_not_searched_nor_echoed(as_staff, colin, alice):
    response = as_staff(colin).post(SEARCH, {"q": alice.mandates.get().iban})
    assert "La recherche par IBAN n'est pas proposée" in page_text(response)
    assert_no_full_nir_or_iban(response, alice)


def test_a_too_short_query_is_explained(as_staff, charlie):
    response = as_staff(charlie).get(SEARCH, {"q": "a"})
    assert "Saisissez au moins 2 caractères." in page_text(response)
