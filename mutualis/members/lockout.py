"""Login lockout on the pair (account, client address), with a separate, higher limit per
address.

django-axes counts failed logins. Locking on the account alone lets anyone lock a member out
from anywhere; locking on the address alone lets five failures behind an office's or a mobile
operator's shared address lock out everyone behind it. So an account is locked *from one
address* after ``AXES_FAILURE_LIMIT`` failures there (``AXES_LOCKOUT_PARAMETERS`` names the
pair), and an address is locked for every account once the failures from it, all accounts
together, reach the higher ``MUTUALIS_LOCKOUT_ADDRESS_LIMIT`` (a password-spraying client).

axes has one limit for all its parameters, so the second rule is this handler's: it sums axes'
own attempt rows for the address within the cool-off period. The address axes stores is
whatever ``AXES_CLIENT_IP_CALLABLE`` gives it; both rules work the same on a pseudonym of it.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db.models import Sum


def address_limit() -> int:
    return int(settings.MUTUALIS_LOCKOUT_ADDRESS_LIMIT)


def address_failures(request) -> int:
    """Failures from the request's address within the cool-off period, all accounts together."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AccountAndAddressHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: axes' database handler (the pair rule) plus the per-address rule."""

    def _address_locked(self, request) -> bool:
        return settings.AXES_LOCK_OUT_AT_FAILURE and address_failures(request) >= address_limit()

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self._address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self._address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
