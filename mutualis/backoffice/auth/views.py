"""Staff login: e-mail and password, then a TOTP code (django-otp); enrolment of the device.

The account is logged in only once both factors are right. Password failures are counted and
locked by django-axes (``settings.AXES_*``); wrong codes by django-otp's throttling.
"""

from __future__ import annotations

from base64 import b32encode

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from mutualis.audit.security import request_address
from mutualis.backoffice import services
from mutualis.backoffice.access import (
    PENDING_SESSION_KEY,
    complete_login,
    no_store,
    render_page,
    safe_next,
    start_pending_login,
    user_in_progress,
)
from mutualis.backoffice.auth import attempts
from mutualis.backoffice.auth.forms import StaffLoginForm, TokenForm
from mutualis.backoffice.auth.qr import qr_svg
from mutualis.members import sessions
from mutualis.members.models import EMAIL_MAX_LENGTH, User
from mutualis.staff import factors

SESSION_EXPIRED = "Votre connexion n'a pas abouti à temps : saisissez à nouveau vos identifiants."


def _is_verified_staff(request: HttpRequest) -> bool:
    user = request.user
    return user.is_authenticated and user.is_staff_account and user.is_verified()


@sensitive_post_parameters("password")
@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if _is_verified_staff(request):
        return no_store(redirect("backoffice:home"))
    form = StaffLoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        start_pending_login(request, user, safe_next(request, request.GET.get("next")))
        if services.confirmed_device(user) is None:
            return no_store(redirect("backoffice:enrol"))
        return no_store(redirect("backoffice:login_code"))
    if request.method == "POST":
        _refused(request, form)
    return render_page(request, "backoffice/auth/login.html", {"form": form})


def _refused(request: HttpRequest, form: StaffLoginForm) -> None:
    """Write a refused password step to the security log (the account's id only, if one
    matched: never what was typed)."""
    if getattr(request, "axes_locked_out", False):
        reason = sessions.LOCKED_OUT
    else:
        codes = [error.code for error in form.non_field_errors().as_data()]
        reason = next((c for c in codes if c in StaffLoginForm.error_messages), None)
    if reason is None:
        return  # an incomplete form: no authentication was attempted
    typed = (form.data.get("username") or "").strip()
    # No address is longer than 254 characters (RFC 5321): a longer one names no account.
    known = typed and len(typed) <= EMAIL_MAX_LENGTH
    account = User.objects.filter(email__iexact=typed).first() if known else None
    sessions.login_refused(request, account=account, space=sessions.STAFF_SPACE, reason=reason)


WRONG_CODE = (
    "Code incorrect ou expiré : saisissez le code affiché à l'instant par votre application."
)
THROTTLED = "Trop de codes erronés : patientez quelques secondes avant de réessayer."


def _throttled(device) -> bool:
    """django-otp waits longer after each wrong code (1 s, 2 s, 4 s…): say so, not "wrong"."""
    allowed, _extra = device.verify_is_allowed()
    return not allowed


@sensitive_post_parameters("token")
@require_http_methods(["GET", "HEAD", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = user_in_progress(request)
    if user is None:
        if _is_verified_staff(request):
            return no_store(redirect("backoffice:home"))
        messages.info(request, SESSION_EXPIRED)
        return no_store(redirect("backoffice:login"))
    device = services.confirmed_device(user)
    if device is None:
        return no_store(redirect("backoffice:enrol"))
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if attempts.locked_out(request, user):
            form.add_error("token", WRONG_CODE)  # answered by the lockout page (axes middleware)
        elif _throttled(device):
            form.add_error("token", THROTTLED)
            _code_refused(request, user, "throttled")
            attempts.code_failed(request, user)  # a try all the same
        elif services.verify_login_code(device=device, token=form.cleaned_data["token"]):
            return no_store(redirect(complete_login(request, user, device)))
        else:
            form.add_error("token", WRONG_CODE)
            _code_refused(request, user, "wrong_code")
            attempts.code_failed(request, user)
    return render_page(request, "backoffice/auth/login_code.html", {"form": form, "account": user})


def _code_refused(request: HttpRequest, user, reason: str) -> None:
    sessions.login_refused(request, account=user, space=sessions.STAFF_SPACE, reason=reason)


def _grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


@sensitive_post_parameters("token")
@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up and confirm the TOTP app: before anything else, at a first login, after a reset
    and after a recovery code. Once confirmed, ten recovery codes are shown, this once."""
    user = user_in_progress(request)
    if user is None:
        if _is_verified_staff(request):
            return no_store(redirect("backoffice:home"))
        messages.info(request, SESSION_EXPIRED)
        return no_store(redirect("backoffice:login"))
    if services.confirmed_device(user) is not None:
        return no_store(redirect("backoffice:login_code"))
    device = services.start_enrolment(user=user)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if attempts.locked_out(request, user):
            form.add_error("token", WRONG_CODE)
        elif _throttled(device):
            form.add_error("token", THROTTLED)
            _code_refused(request, user, "throttled")
            attempts.code_failed(request, user)  # a try all the same
        elif services.confirm_device(
            device=device, token=form.cleaned_data["token"], address=request_address(request)
        ):
            device.refresh_from_db()
            next_url = complete_login(request, user, device)
            codes = factors.issue_recovery_codes(account=user)
            context = {"codes": codes, "next_url": next_url, "first": True}
            return render_page(request, "backoffice/auth/recovery_codes.html", context)
        else:
            form.add_error("token", WRONG_CODE)
            _code_refused(request, user, "wrong_code")
            attempts.code_failed(request, user)
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "account": user,
        "secret": _grouped(secret),
        "otpauth_uri": device.config_url,
        "qr_code": qr_svg(device.config_url),
    }
    return render_page(request, "backoffice/auth/enrol.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff_account:
        services.record_logout(user=request.user)
        sessions.logged_out(request, account=request.user)
    request.session.pop(PENDING_SESSION_KEY, None)
    auth.logout(request)
    messages.info(request, "Vous êtes maintenant déconnecté de la gestion interne.")
    return no_store(redirect("backoffice:login"))
