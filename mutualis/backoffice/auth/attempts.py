"""Wrong second-factor codes (app code, recovery code, re-authentication code) count as failed
logins for django-axes, on the same (account, address) pair as wrong passwords: after
``AXES_FAILURE_LIMIT`` failures the pair is locked and the lockout page is shown
(``members.lockout``), on top of django-otp's growing delay between codes."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from mutualis.members.models import User


def _credentials(account: User) -> dict:
    return {"username": account.email}


def locked_out(request: HttpRequest, account: User) -> bool:
    """Whether the pair is locked; if so the lockout page replaces this request's answer."""
    if AxesProxyHandler.is_locked(request, _credentials(account)):
        request.axes_locked_out = True
        request.axes_credentials = _credentials(account)
        return True
    return False


def code_failed(request: HttpRequest, account: User) -> None:
    user_login_failed.send(sender=__name__, credentials=_credentials(account), request=request)
