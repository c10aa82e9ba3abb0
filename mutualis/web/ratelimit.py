"""A sliding-window rate limit for the public forms and the audience endpoint, kept in Django's
cache.

Each identity (a client address, an e-mail address) is stored under a keyed hash
(``salted_hmac`` with the secret key), never in clear: the cache is not a log of who wrote. With
the database cache (``MUTUALIS_CACHE=db``) the entries are personal data declared like any other
(``web.CacheEntry`` in ``privacy/third_party.py``), and :func:`expire_entries`, the retention
engine's handler for them, deletes every entry whose window is over.
The window slides: an identity may send ``limit`` messages within any ``window`` seconds. The
value is the list of recent timestamps, written with an explicit timeout, so the rule holds on
every cache backend (``incr`` on the database cache would reset the timeout). Two workers racing
on one key may let one extra message through: acceptable for a contact form.
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mutualis import audit
from mutualis.web.tags import WebTag

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


# --- Retention of the database cache's entries ----------------------------------------------------
def _cache_table_exists() -> bool:
    from mutualis.web.models import CACHE_TABLE

    return CACHE_TABLE in connection.introspection.table_names()


def expire_entries(*, before: datetime.datetime, batch_size: int = 5000, dry_run: bool = False):
    """Retention handler of ``web.CacheEntry``: delete every entry whose window is over.

    ``before`` is the rule's bound (a day after the end of the window): a dry run (and
    ``privacy_check`` T2) counts the entries past it. A real run deletes every expired entry,
    which keeps each one well within the rule. Nothing to do when the cache is the per-process
    memory one (no table). Returns ``(rows, batches)``, one audit event per batch.
    """
    from mutualis.web.models import CacheEntry

    if not _cache_table_exists():
        return 0, 0
    if dry_run:
        return CacheEntry.objects.filter(expires__lt=before).count(), 0
    now = timezone.now()
    rows = batches = 0
    while keys := list(
        CacheEntry.objects.filter(expires__lt=now).values_list("pk", flat=True)[:batch_size]
    ):
        with transaction.atomic():
            deleted, _ = CacheEntry.objects.filter(pk__in=keys, expires__lt=now).delete()
            audit.record(WebTag.CACHE_EXPIRE, details={"rows": deleted, "batch": batches + 1})
        rows += deleted
        batches += 1
    return rows, batches
