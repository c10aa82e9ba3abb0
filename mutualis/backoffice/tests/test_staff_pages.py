"""The staff-administration pages and the second factor's pages: invitation, enrolment with a
QR code, recovery codes, recovery login, lockout on the code forms, the staff list."""

from __future__ import annotations

import re

import pytest
import segno
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from mutualis.backoffice.testing import current_code, give_device, page_text, visible_text
from mutualis.staff import factors
from mutualis.staff.models import Approval, ApprovalStatus

pytestmark = pytest.mark.django_db

LOGIN = reverse("backoffice:login")
CODE = reverse("backoffice:login_code")
ENROL = reverse("backoffice:enrol")
RECOVERY = reverse("backoffice:login_recovery")
HOME = reverse("backoffice:home")


def _password(client, user, password=PASSWORD):
    return client.post(LOGIN, {"username": user.email, "password": password})


def _link(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/gestion/invitation/\S+/)", body).group(1)


def test_an_invited_member_of_staff_sets_a_password_then_enrols_with_the_qr_code(
    as_staff, client, ada, smtp_server, django_capture_on_commit_callbacks
):
    admin = as_staff(ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("backoffice:staff_invite"),
            {"display_name": "Nina Petit", "email": "nina@mutuelle.example", "role": "gestion"},
        )
    assert response.status_code == 302
    link = _link(smtp_server.messages[0].body)
    # Django's flow: the token leaves the address before the form is shown.
    form_page = client.get(link, follow=True)
    assert "Choisissez votre mot de passe" in visible_text(form_page)
    chosen = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "un mot de passe bien long",
            "new_password2": "un mot de passe bien long",
        },
    )
    assert chosen.status_code == 302 and chosen.url == ENROL
    assert client.get(link, follow=True).context["validlink"] is False  # single use
    enrol = client.get(ENROL)
    body = page_text(enrol)
    assert '<svg role="img"' in body and "<path" in body  # drawn on the server
    assert " style=" not in body and not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "unsafe-inline" not in enrol["Content-Security-Policy"]
    device = TOTPDevice.objects.get(user__email="nina@mutuelle.example")
    done = client.post(ENROL, {"token": current_code(device)})
    assert len(done.context["codes"]) == 10
    assert client.get(reverse("backoffice:member_search")).status_code == 200


def _drawn_modules(svg: str) -> str:
    """The path of the dark modules of a QR code drawn by segno (what a scanner reads): the
    longest of its paths (the other, if any, is the light background's square)."""
    return max(re.findall(r'<path[^>]* d="([^"]+)"', svg), key=len)


def test_the_enrolment_qr_code_encodes_the_apps_set_up_address(client, charlie):
    _password(client, charlie)
    page = page_text(client.get(ENROL))
    device = TOTPDevice.objects.get(user=charlie, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/")
    expected = segno.make(device.config_url, error="m").svg_inline(scale=4, border=4)
    assert _drawn_modules(page) == _drawn_modules(expected)
    # Another address (another secret) draws other modules: the comparison can fail.
    other = device.config_url.replace("secret=", "secret=A", 1)
    assert _drawn_modules(segno.make(other, error="m").svg_inline(scale=4, border=4)) != (
        _drawn_modules(page)
    )
    # The typed key shown beside it is the same secret.
    secret = re.search(r"secret=([A-Z2-7]+)", device.config_url).group(1)
    assert secret in page.replace(" ", "")


def test_nothing_is_reachable_between_the_password_and_the_enrolment(client, charlie):
    _password(client, charlie)
    assert client.get(HOME).status_code == 302
    assert client.get(reverse("backoffice:member_search")).status_code == 302


def test_a_recovery_code_logs_in_once_and_leads_to_a_new_enrolment(client, gina):
    old = give_device(gina)
    codes = factors.issue_recovery_codes(account=gina)
    _password(client, gina)
    response = client.post(RECOVERY, {"code": codes[0]})
    assert response.status_code == 302 and response.url == ENROL
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    client.get(ENROL)
    new = TOTPDevice.objects.get(user=gina)
    done = client.post(ENROL, {"token": current_code(new)})
    assert codes[1] not in done.context["codes"]  # the new set replaces the old one
    assert not factors.use_recovery_code(account=gina, code=codes[1])


def test_repeated_wrong_codes_lock_the_code_form(client, gina, settings):
    device = give_device(gina)
    _password(client, gina)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(CODE, {"token": "000000"}).status_code == 200
    assert client.post(CODE, {"token": "000000"}).status_code == 429
    assert client.post(CODE, {"token": current_code(device)}).status_code == 429


def test_repeated_wrong_recovery_codes_lock_the_recovery_form(client, gina, settings):
    give_device(gina)
    codes = factors.issue_recovery_codes(account=gina)
    _password(client, gina)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(RECOVERY, {"code": "AAAAA-AAAAA"})
    assert client.post(RECOVERY, {"code": codes[0]}).status_code == 429
    assert factors.codes_left(gina) == 10


def test_the_staff_list_shows_service_factor_state_and_last_login(as_staff, ada, gina, bob):
    give_device(gina)
    factors.issue_recovery_codes(account=gina)
    text = visible_text(as_staff(ada).get(reverse("backoffice:staff_list")))
    assert "gina@mutuelle.example Gestion activée (10 codes de secours) actif jamais" in text
    dpo_view = visible_text(as_staff(bob).get(reverse("backoffice:staff_list")))
    assert "gina@mutuelle.example" in dpo_view and "Inviter" not in dpo_view


def test_two_administrators_reset_a_lost_factor_through_the_pages(as_staff, ada, gina, staff):
    alan = staff("admin", "alan@mutuelle.example")
    give_device(gina)
    first, second = as_staff(ada), as_staff(alan)
    first.post(
        reverse("backoffice:staff_factor_reset", args=[gina.pk]), {"reason": "Téléphone perdu"}
    )
    approval = Approval.objects.get(account=gina)
    mine = page_text(first.get(reverse("backoffice:staff_approvals")))
    assert "Un autre administrateur doit décider" in mine
    refused = first.post(reverse("backoffice:staff_approve", args=[approval.pk]), follow=True)
    assert "un autre administrateur" in visible_text(refused)
    assert TOTPDevice.objects.filter(user=gina).exists()
    second.post(reverse("backoffice:staff_approve", args=[approval.pk]))
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED
    assert not TOTPDevice.objects.filter(user=gina).exists()


def test_the_last_administrator_cannot_be_deactivated_from_the_pages(as_staff, ada, staff):
    alan = staff("admin", "alan@mutuelle.example")
    as_staff(ada).post(reverse("backoffice:staff_deactivate", args=[alan.pk]))
    alan.refresh_from_db()
    assert not alan.is_active
    # alan is gone; ada is the last: she may not deactivate herself, nor may anyone else.
    response = as_staff(ada).post(
        reverse("backoffice:staff_deactivate", args=[ada.pk]), follow=True
    )
    ada.refresh_from_db()
    assert ada.is_active and "propre compte" in visible_text(response)


def test_staff_administration_is_refused_to_the_dpo(as_staff, bob, gina):
    assert as_staff(bob).get(reverse("backoffice:staff_account", args=[gina.pk])).status_code == 403
    assert (
        as_staff(bob).post(reverse("backoffice:staff_deactivate", args=[gina.pk])).status_code
        == 403
    )
