"""Who may enter the back office, and how each page is rendered for them.

Every back-office page goes through :func:`staff_view`: a staff account (``kind == staff``),
verified by its second factor (django-otp, ``user.is_verified()``), whose role holds the page's
permission. Members get 403, staff without a confirmed device are sent to enrolment. Pages are
never stored by browsers or proxies (``Cache-Control: no-store``): they hold personal data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import django_otp
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme

from mutualis.backoffice import services
from mutualis.members import roles, sessions
from mutualis.members.models import User, UserKind
from mutualis.members.roles import Permission

# Between the password and the second factor, the session only remembers who is logging in:
# the account is not logged in (no Django auth session) until the TOTP code is right.
PENDING_SESSION_KEY = "backoffice_pending_login"
PENDING_MAX_AGE = 5 * 60  # seconds to type the code after the password
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

PERMISSION_LABELS = roles.PERMISSION_LABELS


def no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
    return response


def _verified(user: User) -> bool:
    """django-otp's check; a user logged in during this very request (no middleware pass yet)
    is verified when django-otp has just set their device."""
    check = getattr(user, "is_verified", None)
    return check() if check is not None else getattr(user, "otp_device", None) is not None


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """Render a back-office page with the banner's data (who is logged in, which service)."""
    user = request.user
    page = dict(context or {})
    if user.is_authenticated and user.is_staff_account and _verified(user):
        page["staff"] = user
        page["staff_service"] = roles.service_for(user.role)
        page["staff_can"] = {
            "search": user.has_perm(Permission.MEMBER_SEARCH),
            "staff": user.has_perm(Permission.STAFF_VIEW),
            "breaches": user.has_perm(Permission.BREACH_MANAGE),
        }
        if user.has_perm(Permission.BREACH_MANAGE):
            from mutualis.breaches.clock import urgent_breaches

            # The 72-hour clock of every breach still to notify, on each of the DPO's pages.
            page["breach_alerts"] = urgent_breaches()
    return no_store(render(request, template, page, status=status))


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render_page(request, "backoffice/forbidden.html", {"message": message}, status=403)


# Acts that need the staff member to have given their password and code again within the last
# few minutes (re-authentication): revealing a NIR or an IBAN, and administering staff accounts.
# Exports say so themselves (``staff_view(..., recent_auth=True)``).
RECENT_AUTH_PERMISSIONS = frozenset(
    {Permission.NIR_REVEAL, Permission.IBAN_REVEAL, Permission.STAFF_MANAGE}
)


def staff_view(permission: str | None = None, *, recent_auth: bool | None = None) -> Callable:
    """Decorate a back-office view: verified staff only, holding ``permission`` if given.

    ``recent_auth`` (by default: for the permissions of :data:`RECENT_AUTH_PERMISSIONS`) also
    asks for a recent re-authentication (``backoffice.auth.reauth``). The wrapper carries both
    as ``staff_permission`` and ``recent_auth``: the security suite reads them to know what each
    URL requires of each role.
    """
    needs_recent = permission in RECENT_AUTH_PERMISSIONS if recent_auth is None else recent_auth

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                # The path only: a query string might hold what a URL must not carry.
                return no_store(redirect_to_login(request.path, reverse("backoffice:login")))
            if not user.is_staff_account:
                return forbidden(request, "Cet espace est réservé aux personnels de la mutuelle.")
            if not user.is_verified():
                if services.confirmed_device(user) is None:
                    return no_store(redirect("backoffice:enrol"))
                return no_store(redirect("backoffice:login_code"))
            if permission is not None and not user.has_perm(permission):
                return forbidden(request, "Votre service n'a pas accès à cette page.")
            if needs_recent:
                from mutualis.backoffice.auth import reauth

                if not reauth.is_recent(request):
                    return no_store(reauth.challenge(request, view, args, kwargs))
            return no_store(view(request, *args, **kwargs))

        wrapper.staff_permission = permission
        wrapper.recent_auth = needs_recent
        return wrapper

    return decorator


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Where to go after login: a back-office path of this site, else the back-office home."""
    home = reverse("backoffice:home")
    if (
        candidate
        and candidate.startswith(home)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return home


def start_pending_login(request: HttpRequest, user: User, next_url: str) -> None:
    """Remember, after a right password, who is completing the login (not a login yet)."""
    if request.user.is_authenticated:
        auth.logout(request)  # whoever was logged in on this browser is logged out first
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "hash": user.get_session_auth_hash(),
        "at": int(time.time()),
        "next": next_url,
    }


def refresh_pending_login(request: HttpRequest) -> None:
    """Give a pending login its full time again (after a recovery code, before enrolment)."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if isinstance(pending, dict):
        request.session[PENDING_SESSION_KEY] = {**pending, "at": int(time.time())}


def user_in_progress(request: HttpRequest) -> User | None:
    """The staff account whose second factor is awaited, or ``None``.

    Either a staff member who just gave the right password (pending, for 5 minutes at most, and
    only while that password is unchanged), or one already logged in without a second factor.
    """
    user = request.user
    if user.is_authenticated:
        if user.is_staff_account and not user.is_verified():
            return user
        return None
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    if int(time.time()) - int(pending.get("at", 0)) > PENDING_MAX_AGE:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    candidate = User.objects.filter(
        pk=pending.get("user"), kind=UserKind.STAFF, is_active=True
    ).first()
    if candidate is None or not constant_time_compare(
        candidate.get_session_auth_hash(), str(pending.get("hash", ""))
    ):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    return candidate


def complete_login(request: HttpRequest, user: User, device: Any) -> str:
    """Log the staff member in, verified by ``device``; return where to go next."""
    pending = request.session.get(PENDING_SESSION_KEY) or {}
    next_url = safe_next(request, pending.get("next"))
    if request.user.is_authenticated and request.user.pk == user.pk:
        request.session.cycle_key()
    else:
        auth.login(request, user, backend=MODEL_BACKEND)
    request.session.pop(PENDING_SESSION_KEY, None)
    django_otp.login(request, device)
    services.record_login(user=user)
    sessions.logged_in(request, account=user, space=sessions.STAFF_SPACE)
    return next_url
