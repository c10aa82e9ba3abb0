"""Online subscription in a real browser, through to the member space.

Subscribe with one child, read the activation e-mail, set the password, log in, change the
address, log out. The live server runs in this process, so the locmem ``mail.outbox`` sees the
e-mail it sends.
"""

from __future__ import annotations

import datetime
import random
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from mutualis.contracts import terms
from mutualis.contracts.models import Contract
from mutualis.contracts.testing import ensure_offers
from mutualis.members.models import Person
from mutualis.members.testing import make_french_iban, make_nir
from mutualis.members.validators import CIVILITY_FEMALE, mask_iban, mask_nir
from mutualis.privacy import policy

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Un mot de passe assez long 2026"
BIRTH = datetime.date(1984, 6, 3)


def wait_for_step(page, slug: str) -> None:
    # A link of the error summary leaves a #fragment, which the browser keeps across redirects.
    page.wait_for_url(re.compile(rf"/adhesion/etape/{slug}/(#.*)?$"))


def _continue(page) -> None:
    page.get_by_role("button", name="Continuer", exact=True).click()


def test_subscribe_online_then_use_the_member_space(page, live_server):
    ensure_offers()
    policy.publish()
    terms.publish_cgu()
    rng = random.Random(11)
    nir = make_nir(civility=CIVILITY_FEMALE, birth_date=BIRTH, rng=rng)
    iban = make_french_iban(rng)
    child_birth = datetime.date(timezone.localdate().year - 6, 2, 20)

    # --- The public site invites to subscribe -----------------------------------------------
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Adhérer en ligne").click()
    page.wait_for_url("**/adhesion/")
    page.get_by_role("button", name="Commencer mon adhésion").click()

    # 1. Identity
    wait_for_step(page, "identite")
    assert "Étape 1 sur 8" in page.locator(".wizard-count").inner_text()
    page.get_by_label("Madame", exact=True).check()
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    page.get_by_label("Prénoms").fill("Camille")
    page.get_by_label("Date de naissance").fill(BIRTH.isoformat())
    page.get_by_label("Numéro de sécurité sociale").fill(nir)
    _continue(page)

    # 2. Contact details (a mistake first: the error summary links to the field)
    wait_for_step(page, "coordonnees")
    page.get_by_label("Adresse", exact=True).fill("3 place du Marché")
    page.get_by_label("Code postal").fill("690")
    page.get_by_label("Commune").fill("Lyon")
    page.get_by_label("Adresse électronique").fill("camille.lefevre@example.org")
    page.get_by_label("Téléphone mobile (facultatif)").fill("06 11 22 33 44")
    _continue(page)
    summary = page.locator(".error-summary")
    assert "code postal" in summary.inner_text()
    expect(summary).to_be_focused()  # forms.js moves the focus once the page has loaded
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_postal_code"
    page.get_by_label("Code postal").fill("69002")
    _continue(page)

    # 3. Mandatory scheme
    wait_for_step(page, "regime-obligatoire")
    page.get_by_label("Code grand régime").fill("01")
    page.get_by_label("Code caisse").fill("691")
    page.get_by_label("Code centre").fill("0001")
    page.get_by_label("Organisme de rattachement (facultatif)").fill("CPAM du Rhône")
    _continue(page)

    # 4. One child, attached to the member's NIR
    wait_for_step(page, "beneficiaires")
    page.get_by_label("Enfant", exact=True).check()
    page.get_by_label("Monsieur", exact=True).check()
    assert page.get_by_label("Nom", exact=True).input_value() == "Lefèvre"
    page.get_by_label("Prénoms").fill("Hugo")
    page.get_by_label("Date de naissance").fill(child_birth.isoformat())
    page.get_by_label("Cet enfant est rattaché à mon numéro de sécurité sociale").check()
    page.get_by_role("button", name="Ajouter cette personne").click()
    assert "Hugo Lefèvre" in page.locator("#liste").inner_text()
    assert "rattaché à votre numéro" in page.locator("#liste").inner_text()
    _continue(page)

    # 5. Payment and electronic SEPA mandate
    wait_for_step(page, "paiement")
    assert page.get_by_label("Titulaire du compte").input_value() == "Camille Lefèvre"
    assert "FR72ZZZ123456" in page.locator(".mandate").inner_text()
    page.get_by_label("IBAN").fill(iban)
    page.get_by_label("J'autorise la mutuelle").check()
    _continue(page)

    # 6. Offer, with an estimate per person
    wait_for_step(page, "formule")
    estimate = page.locator(".offer").filter(has_text="Confort").inner_text()
    assert "Hugo (enfant)" in estimate and "Total mensuel estimé" in estimate
    page.get_by_label("Confort").check()
    page.get_by_label("Date d'effet souhaitée").fill(timezone.localdate().isoformat())
    _continue(page)

    # 7. Terms and privacy policy
    wait_for_step(page, "conditions")
    page.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    page.get_by_label("J'ai pris connaissance de la politique de confidentialité").check()
    _continue(page)

    # 8. Summary: NIR and IBAN masked, nowhere in clear
    wait_for_step(page, "recapitulatif")
    content = page.content()
    assert mask_nir(nir) in content and mask_iban(iban) in content
    assert nir not in content and iban not in content
    assert Contract.objects.count() == 0
    page.get_by_role("button", name="Confirmer mon adhésion").click()

    # Confirmation
    page.wait_for_url("**/adhesion/confirmation/")
    assert page.locator("h1").inner_text() == "Votre adhésion est enregistrée"
    contract = Contract.objects.select_related("member").get()
    panel = page.locator(".confirmation-panel").inner_text()
    assert contract.member.number in panel and contract.number in panel
    assert contract.beneficiaries.get().person.first_names == "Hugo"
    assert page.csp_violations == []

    # --- The activation e-mail -------------------------------------------------------------
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille.lefevre@example.org"]
    link = re.search(r"https?://\S+/espace/activer/\S+/", message.body).group(0)
    page.goto(live_server.url + urlsplit(link).path)
    if "invalid" in page.url or "plus valable" in page.content():
        pytest.fail(f"the activation link was refused: {page.locator('main').inner_text()}")
    page.get_by_label("Nouveau mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer et accéder à mon espace").click()
    page.wait_for_url(live_server.url + "/espace/")
    page.get_by_role("button", name="Déconnexion").click()

    # --- Log in with the new password ------------------------------------------------------
    page.goto(live_server.url + "/espace/connexion/")
    page.get_by_label("Adresse électronique").fill("camille.lefevre@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server.url + "/espace/")
    assert contract.number in page.content()

    # --- Change the address ----------------------------------------------------------------
    page.goto(live_server.url + "/espace/coordonnees/")
    page.get_by_label("Adresse", exact=True).fill("8 rue de la République")
    page.get_by_label("Code postal").fill("69001")
    page.get_by_role("button", name="Enregistrer mes coordonnées").click()
    page.wait_for_load_state()
    assert "Vos coordonnées ont été mises à jour" in page.content()
    person = Person.objects.get(pk=contract.member.person_id)
    assert person.address_line1 == "8 rue de la République" and person.postal_code == "69001"

    # --- Log out ---------------------------------------------------------------------------
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/espace/")
    assert "/espace/connexion/" in page.url
    assert page.csp_violations == []
