"""The whole staff story in a real browser: an administrator invites a new member of staff, who
chooses a password and enrols with the QR code's key; she loses her phone and gets back in with
a recovery code, enrolling a new app; losing it again with no code to hand, she is reset by two
administrators (one asks, the other approves) and enrols once more."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from mutualis.audit.models import Event
from mutualis.backoffice.testing import give_device
from mutualis.members.models import User, UserKind
from mutualis.staff.tags import StaffTag

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "Un mot de passe de gestion 2026"


def _admin(email: str) -> tuple[User, TOTPDevice]:
    user = User.objects.create_user(
        email=email, password=PASSWORD, kind=UserKind.STAFF, role="admin", display_name=email
    )
    return user, give_device(user)


CSP_VIOLATIONS: list[str] = []


def _new_page(browser):
    page = browser.new_context(locale="fr-FR").new_page()
    page.on(
        "console",
        lambda msg: (
            CSP_VIOLATIONS.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    return page


def _code(key: bytes) -> str:
    """The next code the app accepts from the device holding ``key``.

    The current step as the device counts it (the drift it learnt from earlier codes included),
    or the step after the last code it accepted when that is later: a code is never accepted
    twice. Counting from the clock alone fails whenever an earlier code crossed a step's end
    between the page and the server.
    """
    device = TOTPDevice.objects.filter(key=key.hex()).first()
    if device is None:
        return f"{totp(key):06d}"
    now = TOTP(key, device.step, device.t0, device.digits, device.drift).t()
    ahead = max(0, device.last_t + 1 - now)
    return f"{totp(key, device.step, device.t0, device.digits, device.drift + ahead):06d}"


def _device_key(user: User) -> bytes:
    return TOTPDevice.objects.get(user=user, confirmed=True).bin_key


def _log_in(page, live_server, email: str, password: str, key: bytes | None = None) -> None:
    page.goto(live_server.url + "/gestion/connexion/")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Continuer").click()
    if key is not None:
        page.get_by_label(re.compile("Code à 6 chiffres")).fill(_code(key))
        page.get_by_role("button", name="Se connecter").click()


def _reauthenticate(page, password: str, key: bytes) -> None:
    page.get_by_label("Votre mot de passe").fill(password)
    page.get_by_label(re.compile("Code à 6 chiffres")).fill(_code(key))
    page.get_by_role("button", name="Confirmer").click()


def _enrol(page) -> list[str]:
    """Scan-or-type step: read the key beside the QR code, confirm, note the recovery codes."""
    assert page.locator("figure.qr svg[role=img]").count() == 1
    key = b32decode(page.locator("code.secret").inner_text().replace(" ", ""))
    page.get_by_label(re.compile("Code à 6 chiffres")).fill(_code(key))
    page.get_by_role("button", name="Activer et se connecter").click()
    page.wait_for_selector("ol.recovery-codes")
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    page.get_by_role("link", name=re.compile("J'ai noté mes codes")).click()
    page.wait_for_load_state()
    return codes


def test_invite_enrol_lose_the_phone_recover_and_be_reset_by_two_administrators(
    browser, live_server, smtp_server
):
    ada, ada_device = _admin("ada@mutuelle.example")
    alan, alan_device = _admin("alan@mutuelle.example")

    # Ada invites Nina into the gestion service (re-authenticating first).
    admin = _new_page(browser)
    _log_in(admin, live_server, ada.email, PASSWORD, ada_device.bin_key)
    admin.goto(live_server.url + "/gestion/personnels/inviter/")
    _reauthenticate(admin, PASSWORD, ada_device.bin_key)
    admin.get_by_label("Prénom et nom").fill("Nina Petit")
    admin.get_by_label("Adresse électronique professionnelle").fill("nina@mutuelle.example")
    admin.get_by_label("Service").select_option("gestion")
    admin.get_by_role("button", name="Inviter").click()
    assert "Invitation envoyée" in admin.content()
    link = re.search(r"http://\S+/gestion/invitation/\S+/", smtp_server.messages[0].body).group()
    path = link.split("/gestion/", 1)[1]

    # Nina follows the link, chooses her password, and enrols before anything else.
    nina = _new_page(browser)
    nina.goto(f"{live_server.url}/gestion/{path}")
    nina.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    nina.get_by_label("Le même mot de passe, à nouveau").fill(NEW_PASSWORD)
    nina.get_by_role("button", name="Enregistrer et continuer").click()
    nina.wait_for_url("**/gestion/connexion/activation/")
    codes = _enrol(nina)
    assert len(codes) == 10
    assert nina.locator("h1").inner_text() == "Gestion interne"
    nina.get_by_role("button", name="Se déconnecter").click()

    # She loses her phone: the password, then a recovery code, then a new app.
    _log_in(nina, live_server, "nina@mutuelle.example", NEW_PASSWORD)
    nina.get_by_role("link", name="Utilisez l'un de vos codes de secours").click()
    nina.get_by_label(re.compile("Code de secours")).fill(codes[0])
    nina.get_by_role("button", name="Valider le code de secours").click()
    nina.wait_for_url("**/gestion/connexion/activation/")
    new_codes = _enrol(nina)
    assert codes[1] not in new_codes
    nina.get_by_role("button", name="Se déconnecter").click()
    nina_account = User.objects.get(email="nina@mutuelle.example")
    assert Event.objects.filter(tag=StaffTag.RECOVERY_USE, actor=f"user:{nina_account.pk}").exists()

    # Lost again, no code at hand: Ada asks for a reset...
    admin.goto(f"{live_server.url}/gestion/personnels/{nina_account.pk}/")
    admin.get_by_label("Motif de la réinitialisation").fill("Téléphone perdu, codes restés dedans")
    admin.get_by_role("button", name="Demander la réinitialisation").click()
    admin.goto(live_server.url + "/gestion/personnels/approbations/")
    assert "Un autre administrateur doit décider" in admin.content()
    assert admin.get_by_role("button", name="Approuver").count() == 0
    assert TOTPDevice.objects.filter(user=nina_account).exists()

    # ...and Alan approves it.
    second = _new_page(browser)
    _log_in(second, live_server, alan.email, PASSWORD, alan_device.bin_key)
    second.goto(live_server.url + "/gestion/personnels/approbations/")
    _reauthenticate(second, PASSWORD, alan_device.bin_key)
    second.get_by_role("button", name="Approuver").click()
    second.wait_for_load_state()
    assert "Demande approuvée et appliquée" in second.content()
    assert not TOTPDevice.objects.filter(user=nina_account).exists()

    # Nina's next login goes straight to enrolling a new app.
    _log_in(nina, live_server, "nina@mutuelle.example", NEW_PASSWORD)
    nina.wait_for_url("**/gestion/connexion/activation/")
    assert len(_enrol(nina)) == 10
    assert CSP_VIOLATIONS == []  # the QR code and every page keep to the strict policy
    for page in (admin, nina, second):  # nothing left loading once the test is over
        page.context.close()
