"""A sliding-window rate limit for the public forms, kept in Django's cache.

Each identity (a client address, an e-mail address) is stored under a keyed hash
(``salted_hmac`` with the secret key), never in clear: the cache is not a log of who wrote.
The window slides: an identity may send ``limit`` messages within any ``window`` seconds. The
value is the list of recent timestamps, written with an explicit timeout, so the rule holds on
every cache backend (``incr`` on the database cache would reset the timeout). Two workers racing
on one key may let one extra message through: acceptable for a contact form.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

_SALT = "mutualis.web.ratelimit"


def client_address(request: HttpRequest) -> str:
    """The client's address; an IPv6 client is counted by its /64 network (one subscriber).

    Behind the reverse proxy (``MUTUALIS_BEHIND_PROXY``), the last hop of X-Forwarded-For is the
    one the proxy added, the only one a client cannot forge.
    """
    raw = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "MUTUALIS_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            raw = hops[-1]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(scope: str, identity: str) -> str:
    digest = salted_hmac(_SALT, f"{scope}:{identity}", algorithm="sha256").hexdigest()
    return f"ratelimit:{scope}:{digest}"


@dataclass(frozen=True)
class RateLimit:
    scope: str
    limit: int
    window: int  # seconds

    def allow(self, *identities: str) -> bool:
        """Record one attempt for every identity, unless one of them is over the limit.

        A refused attempt is not recorded: the window frees up as the accepted ones age.
        """
        now = time.time()
        recent: dict[str, list[float]] = {}
        for identity in {i for i in identities if i}:
            key = _key(self.scope, identity)
            stamps = cache.get(key)
            if not isinstance(stamps, list):
                stamps = []
            recent[key] = [t for t in stamps if isinstance(t, float) and t > now - self.window]
            if len(recent[key]) >= self.limit:
                return False
        for key, stamps in recent.items():
            cache.set(key, [*stamps, now], timeout=self.window)
        return True


# The first-party audience endpoint: a browser sends two reports per page it shows (shown, then
# left); a client sending more than this within the window is refused (429) and not recorded.
AUDIENCE_REPORT_LIMIT = 60
AUDIENCE_REPORT_WINDOW = 60  # seconds


def audience_report_limit() -> RateLimit:
    return RateLimit(scope="audience", limit=AUDIENCE_REPORT_LIMIT, window=AUDIENCE_REPORT_WINDOW)


def contact_form_limit() -> RateLimit:
    return RateLimit(
        scope="contact",
        limit=settings.MUTUALIS_CONTACT_RATE_LIMIT,
        window=settings.MUTUALIS_CONTACT_RATE_WINDOW,
    )
