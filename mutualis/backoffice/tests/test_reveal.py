"""Revealing a NIR or an IBAN: a POST with a reason, audited, shown once, never cached."""

from __future__ import annotations

import pytest
from django.urls import reverse
from stdnum import iban as stdnum_iban

from mutualis.audit.models import Event
from mutualis.backoffice.members.reveal import format_nir
from mutualis.backoffice.testing import page_text
from mutualis.billing.tags import BillingTag
from mutualis.members.tags import MembersTag

pytestmark = pytest.mark.django_db

REASON = "Demande de la caisse primaire du 12 mars"


def _nir_url(member, person=None):
    person = person or member.person
    return reverse("backoffice:reveal_nir", args=[member.pk, person.pk])


def _iban_url(member, mandate=None):
    mandate = mandate or member.mandates.get()
    return reverse("backoffice:reveal_iban", args=[member.pk, mandate.pk])


def test_it_reveals_the_nir_and_audits_the_reason(as_staff, gina, alice):
    response = as_staff(gina).post(_nir_url(alice), {"reason": REASON})

    assert response.status_code == 200
    text = page_text(response)
    assert format_nir(alice.person.nir) in text
    assert REASON in text
    assert "no-store" in response["Cache-Control"]
    event = Event.objects.get(tag=MembersTag.NIR_REVEAL)
    assert event.actor == f"user:{gina.pk}" and event.subject_id == str(alice.person_id)
    assert event.details == {"reason": REASON}
    assert alice.person.nir not in str(event.details)


def test_it_reveals_the_iban_and_audits_the_reason(as_staff, colin, alice):
    mandate = alice.mandates.get()
    response = as_staff(colin).post(_iban_url(alice), {"reason": REASON})

    assert response.status_code == 200
    assert stdnum_iban.format(mandate.iban) in page_text(response)
    assert "no-store" in response["Cache-Control"]
    event = Event.objects.get(tag=BillingTag.IBAN_REVEAL)
    assert event.actor == f"user:{colin.pk}" and event.subject_id == str(alice.person_id)
    assert event.details == {"reason": REASON}


def test_the_revealed_value_is_kept_nowhere(as_staff, gina, alice):
    client = as_staff(gina)
    client.post(_nir_url(alice), {"reason": REASON})
    session = client.session
    stored = str(dict(session.items()))
    assert alice.person.nir not in stored
    # The next page shows the record masked again.
    record = page_text(client.get(reverse("backoffice:member_detail", args=[alice.pk])))
    assert alice.person.nir not in record and format_nir(alice.person.nir) not in record


@pytest.mark.parametrize("reason", ["", "   ", "abc"])
def test_a_reason_is_required(as_staff, gina, alice, reason):
    response = as_staff(gina).post(_nir_url(alice), {"reason": reason})

    assert response.status_code == 200
    text = page_text(response)
    assert "Indiquez le motif de la consultation (5 caractères au moins)." in text
    assert format_nir(alice.person.nir) not in text
    assert not Event.objects.filter(tag=MembersTag.NIR_REVEAL).exists()


def test_a_reason_holding_a_nir_is_refused_and_not_written_back(as_staff, gina, alice, dave):
    reason = f"Vérification du numéro {dave.person.nir}"
    response = as_staff(gina).post(_nir_url(alice), {"reason": reason})

    assert response.status_code == 200
    text = page_text(response)
    assert "Le motif ne doit contenir ni numéro de sécurité sociale ni IBAN" in text
    assert dave.person.nir not in text and alice.person.nir not in text
    assert not Event.objects.filter(tag=MembersTag.NIR_REVEAL).exists()


def test_a_reason_holding_an_iban_is_refused(as_staff, colin, alice):
    iban = alice.mandates.get().iban
    response = as_staff(colin).post(_iban_url(alice), {"reason": f"Contrôle de {iban}"})

    text = page_text(response)
    assert "Le motif ne doit contenir ni numéro de sécurité sociale ni IBAN" in text
    assert iban not in text and stdnum_iban.format(iban) not in text
    assert not Event.objects.filter(tag=BillingTag.IBAN_REVEAL).exists()


def test_reveal_is_a_post(as_staff, gina, alice):
    assert as_staff(gina).get(_nir_url(alice)).status_code == 405


def test_cotisations_may_not_reveal_a_nir(as_staff, colin, alice):
    assert as_staff(colin).post(_nir_url(alice), {"reason": REASON}).status_code == 403
    assert not Event.objects.filter(tag=MembersTag.NIR_REVEAL).exists()


def test_gestion_may_not_reveal_an_iban(as_staff, gina, alice):
    assert as_staff(gina).post(_iban_url(alice), {"reason": REASON}).status_code == 403
    assert not Event.objects.filter(tag=BillingTag.IBAN_REVEAL).exists()


def test_another_members_person_or_mandate_is_not_found(as_staff, bob, alice, dave):
    client = as_staff(bob)
    assert client.post(_nir_url(alice, dave.person), {"reason": REASON}).status_code == 404
    mandate = dave.mandates.get()
    assert client.post(_iban_url(alice, mandate), {"reason": REASON}).status_code == 404
    assert not Event.objects.filter(tag__in=[MembersTag.NIR_REVEAL, BillingTag.IBAN_REVEAL])


def test_a_child_without_own_nir_has_nothing_to_reveal(as_staff, gina, alice):
    child = alice.beneficiaries.get().person
    response = as_staff(gina).post(_nir_url(alice, child), {"reason": REASON})
    assert response.status_code == 404
