"""Logging in with a recovery code instead of the app's code (lost or broken phone).

The code is spent and the app removed (``staff.factors.use_recovery_code``); the staff member
is then asked to enrol an app again before anything else, which gives them ten new codes.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from mutualis.audit.security import request_address
from mutualis.backoffice.access import (
    no_store,
    refresh_pending_login,
    render_page,
    user_in_progress,
)
from mutualis.backoffice.auth import attempts
from mutualis.backoffice.auth.views import SESSION_EXPIRED
from mutualis.staff import factors

WRONG = "Ce code de secours est inconnu ou a déjà servi."


class RecoveryCodeForm(forms.Form):
    code = forms.RegexField(
        label="Code de secours (10 caractères, par exemple 7KQ2M-XH4PA)",
        regex=r"^\s*[A-Za-z0-9]{5}[\s-]?[A-Za-z0-9]{5}\s*$",
        max_length=20,
        strip=True,
        error_messages={
            "required": "Saisissez l'un de vos codes de secours.",
            "invalid": "Un code de secours compte 10 lettres et chiffres, par exemple 7KQ2M-XH4PA.",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )


@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def login_recovery(request: HttpRequest) -> HttpResponse:
    user = user_in_progress(request)
    if user is None:
        messages.info(request, SESSION_EXPIRED)
        return no_store(redirect("backoffice:login"))
    form = RecoveryCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if attempts.locked_out(request, user):
            form.add_error("code", WRONG)
        elif factors.use_recovery_code(
            account=user, code=form.cleaned_data["code"], address=request_address(request)
        ):
            refresh_pending_login(request)
            messages.warning(
                request,
                "Code de secours accepté : il ne servira plus. Par sécurité, votre ancienne "
                "application est désactivée : configurez maintenant votre nouvelle application. "
                "De nouveaux codes de secours remplaceront les anciens.",
            )
            return no_store(redirect("backoffice:enrol"))
        else:
            form.add_error("code", WRONG)
            attempts.code_failed(request, user)
    return render_page(
        request, "backoffice/auth/login_recovery.html", {"form": form, "account": user}
    )
