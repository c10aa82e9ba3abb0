"""Online subscription (adhésion en ligne): an encrypted server-side draft, then one transaction."""

from __future__ import annotations

import datetime
import html
import random
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from mutualis.audit.models import Event
from mutualis.billing.models import Mandate
from mutualis.consent import notices
from mutualis.consent.models import ConsentEvent, Source
from mutualis.contracts import drafts, terms
from mutualis.contracts.models import Contract, SubscriptionDraft
from mutualis.contracts.testing import ensure_offers
from mutualis.lib.french import typography
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.members.testing import make_french_iban, make_nir
from mutualis.members.validators import CIVILITY_FEMALE, mask_iban, mask_nir
from mutualis.privacy import policy
from mutualis.vault.models import DataKey, ShredRecord

pytestmark = pytest.mark.django_db

START = "/adhesion/"
BIRTH = datetime.date(1985, 4, 12)
MEMBER_TABLES = (Person, Member, Beneficiary, Contract, Mandate, User)


def url(slug: str) -> str:
    return f"/adhesion/etape/{slug}/"


@pytest.fixture(autouse=True)
def offers_and_policy():
    ensure_offers()
    policy.publish()
    terms.publish_cgu(datetime.date(2026, 1, 1))


@pytest.fixture
def nir() -> str:
    return make_nir(civility=CIVILITY_FEMALE, birth_date=BIRTH, rng=random.Random(7))


@pytest.fixture
def iban() -> str:
    return make_french_iban(random.Random(7))


class Recorder:
    """A test client wrapper that keeps every response, to look for leaks afterwards."""

    def __init__(self, client):
        self.client = client
        self.responses = []

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        self.responses.append(response)
        return response

    def post(self, path, data=None, **kwargs):
        response = self.client.post(path, data or {}, **kwargs)
        self.responses.append(response)
        return response

    def texts(self):
        for response in self.responses:
            yield response.content.decode()
            yield response.headers.get("Location", "")


@pytest.fixture
def browser(client) -> Recorder:
    return Recorder(client)


def identity(nir: str, **extra) -> dict:
    return {
        "civility": CIVILITY_FEMALE,
        "last_name": "Martin",
        "first_names": "Alice",
        "birth_date": BIRTH.strftime("%d/%m/%Y"),
        "nir": nir,
        **extra,
    }


CONTACT = {
    "address_line1": "12 rue des Lilas",
    "address_line2": "",
    "postal_code": "75011",
    "city": "Paris",
    "email": "alice.nouvelle@example.org",
    "phone_mobile": "06 12 34 56 78",
    "phone_landline": "",
}
SCHEME = {"regime": "01", "caisse": "751", "centre": "0001", "organisation": "CPAM de Paris"}


def child(**extra) -> dict:
    today = timezone.localdate()
    return {
        "action": "add",
        "role": "child",
        "civility": "M",
        "last_name": "Martin",
        "first_names": "Léo",
        "birth_date": datetime.date(today.year - 8, 3, 15).isoformat(),
        "attached": "on",
        "nir": "",
        **extra,
    }


def payment(iban: str, **extra) -> dict:
    return {
        "debtor_name": "Alice Martin",
        "iban": iban,
        "bic": "",
        "signed_place": "Paris",
        "mandate": "on",
        **extra,
    }


def offer(**extra) -> dict:
    return {"offer": "confort", "start_date": timezone.localdate().isoformat(), **extra}


ACCEPT = {"accept_cgu": "on", "accept_policy": "on"}


def assert_shredded(key_id) -> None:
    """The key was destroyed (journaled for restores) and its emptied row removed."""
    assert ShredRecord.objects.filter(data_key_id=key_id).exists()
    assert not DataKey.objects.filter(pk=key_id).exists()


def assert_nothing_written():
    for model in MEMBER_TABLES:
        assert model.objects.count() == 0, model.__name__


def walk_to_summary(
    browser: Recorder, nir: str, iban: str, *, check=assert_nothing_written, contact=CONTACT
):
    """Fill every step (one attached child); ``check`` runs after each one."""
    response = browser.post(START)
    assert response.status_code == 302 and response["Location"] == url("identite")
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
        response = browser.post(url(slug), data)
        assert response.status_code == 302, (slug, errors_of(response))
        check()
    assert response["Location"] == url("recapitulatif")


def errors_of(response) -> list[str]:
    """Every error message shown next to a field or at the top of a form."""
    body = response.content.decode()
    return [
        html.unescape(m)
        for m in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', body)
        for m in re.findall(r"<li>(.*?)</li>", m)
    ]


def confirm(browser: Recorder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return browser.post(url("recapitulatif"))


def test_the_full_wizard_writes_the_member_tables_only_at_confirmation(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, iban)
    summary = browser.get(url("recapitulatif"))
    assert summary.status_code == 200
    assert_nothing_written()

    response = confirm(browser, django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response["Location"] == "/adhesion/confirmation/"
    contract = Contract.objects.get()
    member = contract.member
    assert member.person.nir == nir and member.person.birth_date == BIRTH
    assert member.person.phone_mobile == "+33612345678"
    kid = Beneficiary.objects.get(member=member)
    assert kid.role == "child" and kid.person.nir is None and kid.person.nir_holder == member.person
    assert list(contract.beneficiaries.all()) == [kid]
    mandate = Mandate.objects.get(member=member)
    assert mandate.iban == iban and mandate.reference.startswith("RUM-")
    assert contract.offer.code == "confort" and contract.start_date == timezone.localdate()
    assert contract.policy_version == policy.current_version()
    assert Event.objects.filter(tag="contracts:subscription:confirm").count() == 1

    page = browser.get("/adhesion/confirmation/").content.decode()
    assert "Votre adhésion est enregistrée" in page
    assert member.number in page and contract.number in page
    assert mandate.reference in page
    assert "alice.nouvelle@example.org" in page and "mot de passe" in page


def test_the_activation_email_is_sent_once_confirmed(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, iban)
    assert mail.outbox == []
    confirm(browser, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice.nouvelle@example.org"]
    assert "/espace/activer/" in message.body
    assert nir not in message.body and iban not in message.body


def test_the_draft_payload_is_encrypted_at_rest(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    draft = SubscriptionDraft.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM contracts_subscriptiondraft")
        (raw,) = cursor.fetchone()
    raw = bytes(raw)
    for clear in (nir, iban, "Martin", "alice.nouvelle", "12 rue des Lilas"):
        assert clear.encode() not in raw
    # ...and it decrypts, under the draft's own key.
    assert nir in draft.payload and draft.data_key_id is not None
    assert draft.current_step == "recapitulatif"


def test_the_session_holds_only_the_draft_id(browser, client, nir, iban):
    walk_to_summary(browser, nir, iban)
    draft = SubscriptionDraft.objects.get()
    session = Session.objects.get()
    assert session.get_decoded() == {"subscription_draft": str(draft.pk)}
    for clear in (nir, iban, mask_nir(nir), "Martin"):
        assert clear not in session.session_data
        assert clear not in str(session.get_decoded())


def test_no_nir_or_iban_appears_in_a_page_or_a_redirect(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, iban)
    browser.get(url("identite"))
    browser.get(url("paiement"))
    summary = browser.get(url("recapitulatif")).content.decode()
    assert mask_nir(nir) in summary and mask_iban(iban) in summary
    confirm(browser, django_capture_on_commit_callbacks)
    browser.get("/adhesion/confirmation/")
    for session in Session.objects.all():
        assert nir not in str(session.get_decoded()) and iban not in str(session.get_decoded())
    spaced_iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    for text in browser.texts():
        assert nir not in text and iban not in text and spaced_iban not in text
        assert nir[:13] not in text  # not even without its key


def test_going_back_keeps_the_nir_without_showing_it(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    page = browser.get(url("identite")).content.decode()
    assert mask_nir(nir) in page and nir not in page
    # Changing the first names only: the NIR left blank is kept.
    response = browser.post(url("identite"), identity("", first_names="Alice Marie"))
    assert response.status_code == 302
    data = SubscriptionDraft.objects.get().data
    assert data["steps"]["identity"]["nir"] == nir
    assert data["steps"]["identity"]["first_names"] == "Alice Marie"


def test_editing_from_the_summary_returns_to_the_summary(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    page = browser.get(url("coordonnees") + "?retour=recapitulatif").content.decode()
    assert 'name="retour" value="recapitulatif"' in page
    response = browser.post(
        url("coordonnees"), {**CONTACT, "city": "Lyon", "retour": "recapitulatif"}
    )
    assert response["Location"] == url("recapitulatif")


def test_a_valid_nir_is_kept_when_another_field_is_wrong(browser, nir):
    browser.post(START)
    response = browser.post(url("identite"), identity(nir, last_name=""))
    assert response.status_code == 200
    assert "Indiquez votre nom." in errors_of(response)
    body = response.content.decode()
    assert nir not in body and mask_nir(nir) in body
    response = browser.post(url("identite"), identity(""))
    assert response.status_code == 302
    assert SubscriptionDraft.objects.get().data["steps"]["identity"]["nir"] == nir


@pytest.mark.parametrize("method", ["get", "post"])
def test_skipping_ahead_redirects_to_the_first_incomplete_step(browser, nir, method):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    for slug in ["regime-obligatoire", "paiement", "recapitulatif", "beneficiaires"]:
        response = browser.post(url(slug), SCHEME) if method == "post" else browser.get(url(slug))
        assert response.status_code == 302 and response["Location"] == url("coordonnees")
    assert SubscriptionDraft.objects.get().data["steps"].get("scheme") is None


def test_a_step_without_a_draft_goes_back_to_the_start(client):
    response = client.get(url("identite"))
    assert response.status_code == 302 and response["Location"] == START
    assert client.get(url("nulle-part")).status_code in (302, 404)


def test_an_unknown_step_is_a_404(browser):
    browser.post(START)
    assert browser.get(url("nulle-part")).status_code == 404


def test_it_rejects_a_nir_with_a_wrong_key(browser, nir):
    browser.post(START)
    wrong = nir[:13] + f"{(int(nir[13:]) % 97) + 1:02d}"
    response = browser.post(url("identite"), identity(wrong))
    assert response.status_code == 200
    assert any("clé du numéro de sécurité sociale" in e for e in errors_of(response))


def test_it_rejects_a_nir_that_contradicts_the_birth_date_or_the_civility(browser, nir):
    browser.post(START)
    response = browser.post(url("identite"), identity(nir, birth_date="12/05/1985"))
    assert any("mois de naissance" in e for e in errors_of(response))
    response = browser.post(url("identite"), identity(nir, civility="M"))
    assert any("celui d'une femme" in e for e in errors_of(response))


def test_it_accepts_a_corsican_nir_and_a_month_above_12(browser):
    browser.post(START)
    corsica = "2 53 07 2B 073 004 70"
    response = browser.post(url("identite"), identity(corsica, birth_date="10/07/1953"))
    assert response.status_code == 302, errors_of(response)
    body = "2533075123456"  # month 30: birth month unknown, legal
    unknown_month = body + stdnum_nir.calc_check_digits(body)
    response = browser.post(url("identite"), identity(unknown_month, birth_date="10/07/1953"))
    assert response.status_code == 302, errors_of(response)


def test_it_rejects_a_birth_date_in_the_future(browser, nir):
    browser.post(START)
    future = timezone.localdate() + datetime.timedelta(days=3)
    response = browser.post(url("identite"), identity(nir, birth_date=future.isoformat()))
    assert "La date de naissance ne peut pas être dans le futur." in errors_of(response)


@pytest.mark.parametrize("value", ["31/02/1985", "1985-13-01", "hier", "99999-01-01", "0/0/0"])
def test_it_rejects_an_invalid_date_with_a_clear_message(browser, nir, value):
    browser.post(START)
    response = browser.post(url("identite"), identity(nir, birth_date=value))
    assert response.status_code == 200
    assert "Saisissez une date valide, par exemple 14/07/1985." in errors_of(response)


def test_it_refuses_a_nir_already_registered_without_saying_whose(browser, alice):
    browser.post(START)
    taken = alice.person.nir
    response = browser.post(url("identite"), identity(taken, first_names="Zoé", last_name="Durand"))
    body = response.content.decode()
    assert response.status_code == 200
    assert any("déjà enregistré" in e for e in errors_of(response))
    assert alice.person.first_names not in body and alice.number not in body
    assert alice.person.email not in body and taken not in body


def test_it_refuses_an_email_address_that_already_has_an_account(browser, nir, alice):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    response = browser.post(url("coordonnees"), {**CONTACT, "email": alice.person.email})
    assert any("déjà utilisée" in e for e in errors_of(response))


def test_contact_errors_are_in_french_and_per_field(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    response = browser.post(
        url("coordonnees"),
        {**CONTACT, "postal_code": "7501", "phone_mobile": "12", "email": "pas-une-adresse"},
    )
    errors = errors_of(response)
    assert "Le code postal doit compter 5 chiffres (par exemple 75008)." in errors
    assert any("numéro de téléphone doit compter 10 chiffres" in e for e in errors)
    assert "Saisissez une adresse électronique valide." in errors


def test_scheme_errors_point_at_the_wrong_code(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    browser.post(url("coordonnees"), CONTACT)
    response = browser.post(url("regime-obligatoire"), {**SCHEME, "caisse": "75"})
    body = response.content.decode()
    assert "Le code caisse compte 3 chiffres." in errors_of(response)
    assert 'href="#id_caisse"' in body


def test_it_rejects_an_invalid_or_non_sepa_iban(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    wrong = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    response = browser.post(url("paiement"), payment(wrong))
    assert any("Cet IBAN n'est pas valide" in e for e in errors_of(response))
    response = browser.post(url("paiement"), payment("BR1800360305000010009795493C1"))
    assert any("zone SEPA" in e for e in errors_of(response))
    response = browser.post(url("paiement"), payment(iban, bic="XYZ"))
    assert any("BIC" in e for e in errors_of(response))
    response = browser.post(url("paiement"), payment(iban, mandate=""))
    assert any("mandat de prélèvement SEPA" in e for e in errors_of(response))


def test_the_payment_step_shows_the_creditor_and_its_identifier(browser, nir, iban, settings):
    walk_to_summary(browser, nir, iban)
    page = browser.get(url("paiement")).content.decode()
    assert settings.MUTUALIS_SEPA_CREDITOR_ID in page
    assert settings.MUTUALIS_ORGANISATION["name"] in page
    assert "8 semaines" in page and mask_iban(iban) in page


def test_beneficiaries_ages_must_fit_their_role(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    browser.post(url("coordonnees"), CONTACT)
    browser.post(url("regime-obligatoire"), SCHEME)
    response = browser.post(url("beneficiaires"), child(attached="", nir=""))
    assert "Le numéro de sécurité sociale est obligatoire." in errors_of(response)
    today = timezone.localdate()
    minor = make_nir(civility="M", birth_date=datetime.date(today.year - 15, 1, 2))
    response = browser.post(
        url("beneficiaires"),
        child(role="spouse", attached="", birth_date=f"{today.year - 15}-01-02", nir=minor),
    )
    assert "Un conjoint ou partenaire doit être majeur." in errors_of(response)
    response = browser.post(url("beneficiaires"), child(birth_date=f"{today.year - 30}-01-02"))
    assert any("jusqu'à 28 ans" in e for e in errors_of(response))
    assert SubscriptionDraft.objects.get().data["steps"].get("beneficiaries") is None


def test_beneficiaries_can_be_added_changed_and_removed(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    browser.post(url("coordonnees"), CONTACT)
    browser.post(url("regime-obligatoire"), SCHEME)
    spouse_nir = make_nir(civility="M", birth_date=datetime.date(1983, 9, 2))
    spouse = child(
        role="spouse", first_names="Paul", attached="", birth_date="1983-09-02", nir=spouse_nir
    )
    assert browser.post(url("beneficiaires"), spouse).status_code == 302
    assert browser.post(url("beneficiaires"), child()).status_code == 302
    page = browser.get(url("beneficiaires")).content.decode()
    assert "Paul Martin" in page and "Léo Martin" in page
    assert mask_nir(spouse_nir) in page and spouse_nir not in page

    # A second spouse is refused.
    other = make_nir(civility="M", birth_date=datetime.date(1980, 1, 1))
    response = browser.post(
        url("beneficiaires"),
        {**spouse, "first_names": "Jean", "birth_date": "1980-01-01", "nir": other},
    )
    assert "Un seul conjoint ou partenaire peut être couvert." in response.content.decode()

    # Change the child (its NIR is attached, nothing to keep), then remove the spouse.
    response = browser.post(
        "/adhesion/etape/beneficiaires/2/", {**child(first_names="Léon"), "action": ""}
    )
    assert response.status_code == 302
    for garbage in ["remove-²", "remove-99999999999999999999", "remove-0", "remove-"]:
        assert browser.post(url("beneficiaires"), {"action": garbage}).status_code == 302
    assert browser.post(url("beneficiaires"), {"action": "remove-1"}).status_code == 302
    items = SubscriptionDraft.objects.get().data["steps"]["beneficiaries"]
    assert [b["first_names"] for b in items] == ["Léon"]
    assert browser.post(url("beneficiaires"), {"action": "continue"})["Location"] == url("paiement")


def test_an_attached_child_cannot_have_its_own_nir(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    browser.post(url("coordonnees"), CONTACT)
    browser.post(url("regime-obligatoire"), SCHEME)
    today = timezone.localdate()
    own = make_nir(civility="M", birth_date=datetime.date(today.year - 8, 3, 15))
    response = browser.post(url("beneficiaires"), child(nir=own))
    assert any("pas de numéro propre" in e for e in errors_of(response))


def test_the_offer_step_shows_a_monthly_estimate_per_person(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    page = browser.get(url("formule")).content.decode()
    assert "Vous" in page and "Léo (enfant)" in page
    assert "40 à 59 ans" in page and "0 à 19 ans" in page
    assert "64.00 €" in page or "64,00 €" in page  # confort, 40-59
    assert "90,00 €" in page or "90.00 €" in page  # confort total: 64 + 26


def test_the_start_date_must_be_within_180_days(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    late = timezone.localdate() + datetime.timedelta(days=200)
    response = browser.post(url("formule"), offer(start_date=late.isoformat()))
    assert any("La date d'effet doit être comprise" in e for e in errors_of(response))
    response = browser.post(url("formule"), offer(offer="inexistante"))
    assert "Choisissez une formule proposée." in errors_of(response)


def test_the_terms_must_be_accepted_and_the_policy_version_is_stored(browser, nir, iban):
    walk_to_summary(browser, nir, iban)
    response = browser.post(url("conditions"), {"accept_cgu": "on"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/conditions-generales/"' in body and 'href="/confidentialite/"' in body
    acceptance = SubscriptionDraft.objects.get().data["steps"]["acceptance"]
    assert acceptance["policy_version_id"] == policy.current_version().pk
    assert acceptance["cgu_version"] == "2026-01-01"


def test_the_full_check_runs_again_at_confirmation(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, iban)
    # Someone else subscribes with the same NIR between the steps and the confirmation.
    from mutualis.contracts import services
    from mutualis.contracts.testing import make_application, make_person_data

    other = make_person_data(email="autre@example.org", nir=nir)
    services.subscribe(application=make_application(member=other))
    response = confirm(browser, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "déjà enregistré" in body
        and 'href="/adhesion/etape/identite/?retour=recapitulatif"' in body
    )
    assert Contract.objects.count() == 1 and SubscriptionDraft.objects.count() == 1


def test_the_draft_is_deleted_and_its_key_shredded_after_confirmation(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, iban)
    draft = SubscriptionDraft.objects.get()
    confirm(browser, django_capture_on_commit_callbacks)
    assert not SubscriptionDraft.objects.exists()
    assert_shredded(draft.data_key_id)
    session = Session.objects.get().get_decoded()
    assert "subscription_draft" not in session
    # Posting the confirmation again creates nothing more.
    again = browser.post(url("recapitulatif"))
    assert again.status_code == 302 and Contract.objects.count() == 1


def test_an_expired_draft_is_erased_and_the_wizard_restarts(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    draft = SubscriptionDraft.objects.get()
    assert draft.expires_at == draft.created_at + datetime.timedelta(hours=24)
    SubscriptionDraft.objects.filter(pk=draft.pk).update(expires_at=timezone.now())
    response = browser.get(url("coordonnees"))
    assert response.status_code == 302 and response["Location"] == START + "?expiree=1"
    assert "a expiré" in browser.get(response["Location"]).content.decode()
    assert not SubscriptionDraft.objects.exists()
    assert_shredded(draft.data_key_id)
    assert url("identite") in browser.post(START)["Location"]


def test_a_draft_left_behind_is_purged_a_day_later(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    draft = SubscriptionDraft.objects.get()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=23), tick=False):
        assert drafts.purge_expired() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25), tick=False):
        assert drafts.purge_expired() == 1
        # The session idled out long ago: the visitor starts afresh.
        assert browser.get(url("coordonnees"))["Location"] == START
    assert_shredded(draft.data_key_id)


def test_abandoning_erases_the_draft(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    draft = SubscriptionDraft.objects.get()
    response = browser.post("/adhesion/abandonner/")
    assert response["Location"] == START + "?abandon=1"
    assert not SubscriptionDraft.objects.exists()
    assert_shredded(draft.data_key_id)


def test_restarting_replaces_the_previous_draft(browser, nir):
    browser.post(START)
    browser.post(url("identite"), identity(nir))
    first = SubscriptionDraft.objects.get()
    assert "Reprendre mon adhésion" in browser.get(START).content.decode()
    browser.post(START)
    assert SubscriptionDraft.objects.get().pk != first.pk
    assert_shredded(first.data_key_id)


def test_the_purge_command_erases_expired_drafts_only(capsys):
    old = drafts.start_draft(data={"steps": {}})
    fresh = drafts.start_draft(data={"steps": {}})
    SubscriptionDraft.objects.filter(pk=old.pk).update(expires_at=timezone.now())
    call_command("purge_subscription_drafts")
    assert list(SubscriptionDraft.objects.all()) == [fresh]
    assert_shredded(old.data_key_id)
    assert "1 adhésion" in capsys.readouterr().out


def test_the_declaration_keeps_drafts_one_day_and_its_handler_shreds_them():
    from mutualis.privacy import registry

    declaration = registry.get("contracts.SubscriptionDraft")
    assert declaration.retention_rule.active.days == 1 and declaration.fields["payload"].encrypted
    old = drafts.start_draft(data={"steps": {}})
    fresh = drafts.start_draft(data={"steps": {}})
    SubscriptionDraft.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=30)
    )
    before = timezone.now() - datetime.timedelta(days=1)
    assert drafts.purge_for_retention(before=before, dry_run=True) == (1, 0)
    assert drafts.purge_for_retention(before=before, batch_size=1) == (1, 1)
    assert list(SubscriptionDraft.objects.all()) == [fresh]
    assert_shredded(old.data_key_id)


def test_wizard_pages_are_not_cached_and_show_the_step(browser, nir):
    browser.post(START)
    response = browser.get(url("identite"))
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in browser.get(START)["Cache-Control"]
    body = response.content.decode()
    assert "Étape 1 sur 8" in body and 'aria-current="step"' in body
    browser.post(url("identite"), identity(nir))
    assert "Étape 2 sur 8" in browser.get(url("coordonnees")).content.decode()


def test_errors_are_summarised_and_linked_to_their_fields(browser, nir):
    browser.post(START)
    response = browser.post(url("identite"), identity("123", civility=""))
    body = response.content.decode()
    assert '<div class="error-summary" role="alert"' in body
    assert 'href="#id_nir"' in body and 'href="#id_civility_0"' in body
    assert re.search(r'aria-describedby="id_nir_helptext id_nir_error"', body)
    assert 'id="id_nir_error"' in body and 'aria-invalid="true"' in body
    assert "<title>Erreur\u00a0: " in body  # French typography: no line starts with ":"
    assert '<label for="id_nir">' in body and "<legend>Civilité</legend>" in body


@pytest.mark.parametrize(
    "slug", ["", "etape/identite/", "etape/beneficiaires/", "etape/recapitulatif/"]
)
def test_wizard_pages_have_no_inline_script_or_style(browser, nir, iban, slug):
    walk_to_summary(browser, nir, iban)
    body = browser.get("/adhesion/" + slug).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "<style" not in body and " style=" not in body
    assert body.count("<h1") == 1


def test_the_cgu_page_shows_the_current_version(client):
    response = client.get("/conditions-generales/")
    assert response.status_code == 200
    assert (
        "Version du" in response.content.decode() and "1 janvier 2026" in response.content.decode()
    )


def test_the_home_page_invites_to_subscribe(client):
    assert 'href="/adhesion/"' in client.get("/").content.decode()


def test_the_confirmation_page_needs_a_confirmed_subscription(client):
    response = client.get("/adhesion/confirmation/")
    assert response.status_code == 302 and response["Location"] == START


HUGE = "x" * 100_000


@pytest.mark.parametrize(
    ("slug", "data"),
    [
        ("identite", {"last_name": HUGE, "nir": HUGE, "birth_date": HUGE, "civility": HUGE}),
        ("identite", {"nir": "2 85 04 75 \x00", "birth_date": "2020-02-30"}),
        ("identite", {"birth_date": "0001-01-01", "nir": "253072B07300470"}),
    ],
)
def test_garbage_never_crashes_a_page(browser, slug, data):
    browser.post(START)
    response = browser.post(url(slug), {**identity(""), **data})
    assert response.status_code == 200


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["civility", "last_name", "first_names", "birth_date", "nir", "retour", "action"]
        ),
        st.text(max_size=60),
    ),
    slug=st.sampled_from(["identite", "coordonnees", "beneficiaires", "recapitulatif"]),
)
def test_random_input_never_crashes_the_wizard(client, fields, slug):
    client.post(START)
    response = client.post(url(slug), fields)
    assert response.status_code in (200, 302)


def test_the_iban_helpers_used_here_are_sound(iban):
    assert stdnum_iban.is_valid(iban)


# --- Communication choices: unticked boxes, each an opt-in under its notice ---------------------
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
    assert typography(notices.current_notice("offers").text).replace("'", "&#x27;") in page


def test_what_is_ticked_becomes_a_consent_under_the_notice_shown_and_nothing_else(
    browser, nir, iban, django_capture_on_commit_callbacks
):
    contact = {**CONTACT, "communication_newsletter_email": "on"}
    walk_to_summary(browser, nir, iban, contact=contact)
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
    walk_to_summary(browser, nir, iban)
    confirm(browser, django_capture_on_commit_callbacks)
    assert not ConsentEvent.objects.exists()


def test_a_subscription_paid_from_a_belgian_account_goes_through(
    browser, nir, django_capture_on_commit_callbacks
):
    walk_to_summary(browser, nir, "BE68 5390 0754 7034")
    response = confirm(browser, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert Mandate.objects.get().iban == "BE68539007547034"
