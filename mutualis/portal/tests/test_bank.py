"""Change of bank account: the mandate amended (same reference, the former IBAN kept for the
next debit's amendment information), a new mandate only when none runs, the IBAN never echoed in
clear."""

from __future__ import annotations

import pytest

from mutualis.audit.models import Event
from mutualis.billing.models import Mandate
from mutualis.members.testing import make_french_iban
from mutualis.members.validators import mask_iban

pytestmark = pytest.mark.django_db

URL = "/espace/compte-bancaire/"


@pytest.fixture
def new_iban():
    import random

    return make_french_iban(random.Random(99))


def _form(iban, **changes) -> dict:
    data = {
        "iban": iban,
        "bic": "",
        "debtor_name": "Alice Martin",
        "signed_place": "Lyon",
        "accept_mandate": "on",
    }
    data.update(changes)
    return data


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def test_the_page_shows_the_mandate_text_with_creditor_and_ics(alice_client, settings):
    body = alice_client.get(URL).content.decode()
    assert settings.MUTUALIS_SEPA_CREDITOR_ID in body
    assert settings.MUTUALIS_ORGANISATION["name"] in body
    assert "vous autorisez" in body and "8 semaines" in body
    assert 'type="checkbox" name="accept_mandate"' in body


def test_a_new_account_amends_the_current_mandate(alice_client, alice, new_iban):
    old = Mandate.objects.get(member=alice)
    old_iban = old.iban
    response = alice_client.post(URL, _form(_grouped(new_iban), bic="bnpa fr pp"))
    assert response.status_code == 302
    assert response["Location"] == "/espace/compte-bancaire/confirmation/"
    current = Mandate.objects.filter(member=alice).current().get()
    assert current.pk == old.pk and current.reference == old.reference
    assert current.iban == new_iban and current.bic == "BNPAFRPP"
    assert current.previous_iban == old_iban and current.amendment_pending
    tags = list(Event.objects.filter(tag__startswith="billing:mandate").values_list("tag", "actor"))
    assert ("billing:mandate:amend", f"user:{alice.account.pk}") in tags


def test_without_a_running_mandate_a_new_one_is_signed(alice_client, alice, new_iban):
    from django.utils import timezone

    Mandate.objects.filter(member=alice).update(ended_at=timezone.now())
    alice_client.post(URL, _form(new_iban))
    current = Mandate.objects.filter(member=alice).current().get()
    assert current.iban == new_iban and current.signed_place == "Lyon"
    assert Mandate.objects.filter(member=alice).count() == 2


def test_the_confirmation_shows_the_masked_iban_and_the_reference(alice_client, alice, new_iban):
    response = alice_client.post(URL, _form(new_iban), follow=True)
    body = response.content.decode()
    current = Mandate.objects.filter(member=alice).current().get()
    assert current.reference in body
    assert mask_iban(new_iban) in body
    assert new_iban not in body and _grouped(new_iban) not in body


def test_the_mandate_must_be_accepted(alice_client, alice, new_iban):
    data = _form(new_iban)
    del data["accept_mandate"]
    response = alice_client.post(URL, data)
    assert response.status_code == 200
    assert "vous devez accepter le nouveau mandat" in response.content.decode()
    assert Mandate.objects.filter(member=alice).count() == 1


def test_an_invalid_iban_is_refused_and_kept_only_in_the_member_s_own_field(
    alice_client, alice, new_iban
):
    wrong = new_iban[:-1] + ("0" if new_iban[-1] != "0" else "1")
    response = alice_client.post(URL, _form(wrong))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cet IBAN n&#x27;est pas valide" in body
    assert body.count(wrong) == 1
    assert f'name="iban" value="{wrong}"' in body
    assert Mandate.objects.filter(member=alice).count() == 1


def test_a_non_sepa_account_is_refused(alice_client, alice):
    response = alice_client.post(URL, _form("TR330006100519786457841326"))
    assert "zone SEPA" in response.content.decode()
    assert Mandate.objects.filter(member=alice).count() == 1


def test_the_same_account_again_is_refused(alice_client, alice):
    current = Mandate.objects.get(member=alice)
    response = alice_client.post(URL, _form(current.iban))
    assert "déjà celui de votre mandat en cours" in response.content.decode()
    assert Mandate.objects.filter(member=alice).count() == 1


def test_a_belgian_account_is_accepted_for_the_mandate(alice_client, alice):
    response = alice_client.post(URL, _form("BE68 5390 0754 7034"))
    assert response.status_code == 302
    assert Mandate.objects.filter(member=alice).current().get().iban == "BE68539007547034"
