"""Re-authentication: the password and an app code again, valid a few minutes, before revealing
a NIR or an IBAN, before an export and before any staff-administration act.

One mechanism for all of them: ``staff_view`` asks :func:`is_recent`, and when the last
re-authentication is older than ``MUTUALIS_REAUTH_MINUTES`` answers with :func:`challenge`.
A page (GET) is reached again after the re-authentication page; an act (POST) is shown the
password-and-code form in place, carrying the act's own fields, and done once both are right —
nothing has to be typed twice. The session key is rotated at each re-authentication, and
failures count towards the lockout like failed logins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from mutualis.audit.security import record_security_event
from mutualis.audit.services import holds_nir_or_iban
from mutualis.backoffice import services
from mutualis.backoffice.access import no_store, render_page, safe_next, staff_view
from mutualis.backoffice.auth import attempts
from mutualis.backoffice.auth.forms import TokenForm
from mutualis.backoffice.members.search import looks_like_nir
from mutualis.staff.tags import StaffTag

SESSION_KEY = "backoffice_reauthenticated_at"
PREFIX = "reauth"
WRONG = "Mot de passe ou code incorrect : saisissez-les à nouveau."


def max_age() -> int:
    return int(settings.MUTUALIS_REAUTH_MINUTES) * 60


def is_recent(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_KEY)
    return isinstance(at, int) and 0 <= int(time.time()) - at <= max_age()


def _mark(request: HttpRequest) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = int(time.time())


class ReauthenticationForm(TokenForm):
    password = forms.CharField(
        label="Votre mot de passe",
        strip=False,
        max_length=4096,
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "token"]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)
        self.fields["token"].widget.attrs.pop("autofocus", None)
        self.fields["password"].widget.attrs["autofocus"] = True


def _verify(request: HttpRequest, form: ReauthenticationForm) -> bool:
    """Both factors of the logged-in staff member; a failure is counted and logged."""
    user = request.user
    if attempts.locked_out(request, user):
        return False
    device = services.confirmed_device(user)
    password_ok = (
        authenticate(request, username=user.email, password=form.cleaned_data["password"])
        is not None
    )
    code_ok = False
    if password_ok and device is not None:
        allowed, _ = device.verify_is_allowed()
        code_ok = allowed and services.verify_login_code(
            device=device, token=form.cleaned_data["token"]
        )
        if not code_ok:
            attempts.code_failed(request, user)
    if password_ok and code_ok:
        _mark(request)
        record_security_event(StaffTag.REAUTHENTICATE, request=request, actor=user)
        return True
    record_security_event(StaffTag.REAUTHENTICATION_FAILED, request=request, actor=user)
    form.add_error(None, WRONG)
    return False


def _replayed(post: QueryDict) -> list[tuple[str, str]]:
    """The act's own fields, carried through the re-authentication form (never a NIR/IBAN)."""
    return [
        (name, value)
        for name, values in post.lists()
        if name != "csrfmiddlewaretoken" and not name.startswith(f"{PREFIX}-")
        for value in values
        if not (looks_like_nir(value) or holds_nir_or_iban(value))
    ]


def _page(request: HttpRequest, form: ReauthenticationForm, **context) -> HttpResponse:
    context = {"form": form, "minutes": int(settings.MUTUALIS_REAUTH_MINUTES), **context}
    return render_page(request, "backoffice/auth/reauthenticate.html", context)


def challenge(request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> HttpResponse:
    """What ``staff_view`` answers when a recent re-authentication is needed."""
    if request.method != "POST":
        # Back to the same page afterwards, with its query (an export's filters) when no value
        # in it looks like a NIR or an IBAN: such a value is never carried into another address.
        target, pairs = request.path, [(k, v) for k, values in request.GET.lists() for v in values]
        if pairs and _replayed(request.GET) == pairs:
            target = f"{target}?{urlencode(pairs)}"
        login = reverse("backoffice:reauthenticate")
        return redirect(f"{login}?{urlencode({'next': target}, safe='/')}")
    if f"{PREFIX}-password" not in request.POST:
        return _page(
            request, ReauthenticationForm(), action=request.path, replay=_replayed(request.POST)
        )
    form = ReauthenticationForm(request.POST)
    if form.is_valid() and _verify(request, form):
        data = QueryDict(mutable=True)
        for name, value in _replayed(request.POST):
            data.appendlist(name, value)
        request.POST = data
        return view(request, *args, **kwargs)
    return _page(request, form, action=request.path, replay=_replayed(request.POST))


@sensitive_post_parameters(f"{PREFIX}-password", f"{PREFIX}-token")
@staff_view()
@require_http_methods(["GET", "HEAD", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """The re-authentication page, for a page that needs it (``?next=`` its path)."""
    next_url = safe_next(request, request.GET.get("next"))
    form = ReauthenticationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _verify(request, form):
        return no_store(redirect(next_url))
    return _page(request, form, action=request.get_full_path(), replay=[])
