"""The audience cookie: a random identifier and the day of the first visit, signed.

The cookie lives 13 months at most from the first visit and is never extended: it is set once,
with an expiry counted from its own first day, and a cookie presented later than that (a browser
that ignored the expiry, a copied value) is refused as if absent. Its date is signed with the
site's secret key, so it cannot be moved forward to stay longer. Nothing in it points to a
person.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.core import signing
from django.utils import timezone

from mutualis.lib.dates import add_months
from mutualis.privacy import catalogue

COOKIE = catalogue.AUDIENCE_COOKIE
REFUSAL_COOKIE = catalogue.AUDIENCE_REFUSAL_COOKIE
LIFETIME_MONTHS = catalogue.AUDIENCE_COOKIE_MONTHS
_SALT = "mutualis.audience.visitor"


def end_of_life(first_day: datetime.date) -> datetime.datetime:
    """The end of a cookie set on ``first_day`` for 13 months: the start of the same day 13
    months later (the audience cookie, and the one that remembers a refusal)."""
    last = add_months(first_day, LIFETIME_MONTHS)
    return timezone.make_aware(datetime.datetime.combine(last, datetime.time.min))


def seconds_left(first_day: datetime.date) -> int:
    """The ``max-age`` of a cookie set now whose 13 months started on ``first_day``."""
    return max(0, int((end_of_life(first_day) - timezone.now()).total_seconds()))


@dataclass(frozen=True)
class Visitor:
    id: str
    since: datetime.date

    @property
    def expires(self) -> datetime.datetime:
        """The end of the cookie's life: the start of the day 13 months after the first one."""
        return end_of_life(self.since)

    def cookie_value(self) -> str:
        return signing.Signer(salt=_SALT).sign(f"{self.id}.{self.since:%Y%m%d}")


def new_visitor() -> Visitor:
    return Visitor(id=secrets.token_hex(16), since=timezone.localdate())


def from_cookie(value: str | None) -> Visitor | None:
    """The visitor a cookie names, or ``None`` when it is absent, forged, or past its life."""
    if not value or len(value) > 200:
        return None
    try:
        raw = signing.Signer(salt=_SALT).unsign(value)
        identifier, day = raw.split(".")
        since = datetime.date.fromisoformat(f"{day[:4]}-{day[4:6]}-{day[6:]}")
    except (signing.BadSignature, ValueError):
        return None
    visitor = Visitor(id=identifier, since=since)
    if since > timezone.localdate() or timezone.now() >= visitor.expires:
        return None
    return visitor
