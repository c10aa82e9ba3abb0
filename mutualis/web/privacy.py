"""``privacy_check`` T7: cookies and audience statistics as section II of the policy says.

The web app registers the check of what the site really sets, since it serves the pages (its one
model, the database cache's table, is declared with the third-party technical data):

- the settings: the CSRF and session cookies last the browsing session;
- the live site, requested in-process inside a transaction rolled back (so nothing stays), from
  an address of the documentation range drawn for the run (never counted against a real
  client's allowance): the main public pages; two reports to the audience endpoint (the first
  sets the audience cookie, the second must not extend it); the refusal of the measurement on
  the cookies page; a member and a member of staff logged in (accounts made for the run), each
  logging out of their space, which leaves a flash message, and reading the page that shows it.
  Every cookie set must be declared, with no longer a life than declared, and the audience and
  refusal cookies may live 13 calendar months from today at most;
- the data: no raw audience event older than 25 months, none recorded for a cookie past its 13
  months.
"""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import dataclass, field
from http.cookies import Morsel

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualis.lib.dates import add_months
from mutualis.lib.french import plural
from mutualis.privacy import catalogue, promises
from mutualis.privacy.declaration import Duration
from mutualis.privacy.retention import cutoff

PAGES = ("web:home", "web:policy", "web:cookies", "web:contact", "portal:login")
# The promise of section II (CNIL audience exemption), whatever the declaration says.
COOKIE_MONTHS = 13
EVENT_MONTHS = 25
THIRTEEN_MONTH_COOKIES = (catalogue.AUDIENCE_COOKIE, catalogue.AUDIENCE_REFUSAL_COOKIE)


class _Rollback(Exception):
    pass


def _host() -> str | None:
    """A host name the site answers to (``ALLOWED_HOSTS``), for the in-process requests."""
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            return "localhost"
        if host:
            return host.lstrip(".")
    return None


def _lifetime(morsel: Morsel) -> int | None:
    """Seconds a cookie is set to live, ``None`` for a session cookie, 0 for a deletion."""
    if morsel["max-age"] not in ("", None):
        return int(morsel["max-age"])
    if morsel["expires"]:
        moment = datetime.datetime.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT")
        return int((moment.replace(tzinfo=datetime.UTC) - timezone.now()).total_seconds())
    return None


def _deletion(morsel: Morsel) -> bool:
    life = _lifetime(morsel)
    return life == 0 or (not morsel.value and life is not None and life <= 0)


@dataclass
class Observed:
    """What the in-process visit saw: each cookie set (deletions aside), with the page that set
    it."""

    settings: list[tuple[str, Morsel, str]] = field(default_factory=list)
    extended: bool = False  # the second audience report set the audience cookie again

    def add(self, response, where: str) -> None:
        for name, morsel in response.cookies.items():
            if not _deletion(morsel):
                self.settings.append((name, morsel, where))

    @property
    def cookies(self) -> dict[str, Morsel]:
        """Each cookie as it was last set."""
        return {name: morsel for name, morsel, _ in self.settings}


def _probe_address() -> str:
    """An address of the IPv6 documentation range (RFC 3849), a /64 of its own for each run."""
    return f"2001:db8:{secrets.randbelow(0x10000):x}:{secrets.randbelow(0x10000):x}::1"


def observe(host: str) -> Observed:
    """Visit the site in-process (see the module docstring) and return what it set."""
    from mutualis.members.models import User, UserKind

    secure = bool(settings.SECURE_SSL_REDIRECT)
    address = _probe_address()
    origin = f"{'https' if secure else 'http'}://{host}"

    def client() -> Client:
        return Client(
            HTTP_HOST=host, secure=secure, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=address
        )

    seen = Observed()
    try:
        with transaction.atomic():
            visitor = client()
            for name in PAGES:
                seen.add(visitor.get(reverse(name)), name)
            report = {
                "path": reverse("web:audience_event"),
                "data": json.dumps({"t": "view", "p": reverse("web:home")}),
                "content_type": "application/json",
                "HTTP_ORIGIN": origin,
                "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            }
            seen.add(visitor.post(**report), "web:audience_event")
            seen.extended = catalogue.AUDIENCE_COOKIE in visitor.post(**report).cookies
            refusal = visitor.post(reverse("web:audience_choice"), {"mesure": "refuser"})
            seen.add(refusal, "web:audience_choice")
            for kind, space in ((UserKind.MEMBER, "portal"), (UserKind.STAFF, "backoffice")):
                account = User.objects.create_user(
                    email=f"verification-t7-{secrets.token_hex(8)}@{host}",
                    password=None,
                    kind=kind,
                    display_name="Vérification T7",
                )
                browser = client()
                browser.force_login(account)
                home = "portal:dashboard" if space == "portal" else "backoffice:home"
                seen.add(browser.get(reverse(home)), home)
                # Logging out leaves a flash message for the next page, which shows it.
                seen.add(browser.post(reverse(f"{space}:logout")), f"{space}:logout")
                seen.add(browser.get(reverse(f"{space}:login")), f"{space}:login")
            raise _Rollback
    except _Rollback:
        pass
    return seen


def observed_cookies(host: str) -> tuple[dict[str, Morsel], bool]:
    """Every cookie the visit set, and whether the second report set the audience cookie again
    (it must not)."""
    seen = observe(host)
    return seen.cookies, seen.extended


def _settings_breaches() -> list[str]:
    found = []
    if settings.CSRF_COOKIE_AGE is not None:
        found.append("le cookie CSRF dure au-delà de la session (CSRF_COOKIE_AGE)")
    if not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE:
        found.append("le cookie de session survit à la fermeture du navigateur")
    return found


def _thirteen_months_from_today() -> int:
    """Seconds from now to the start of the same day 13 months later."""
    last = add_months(timezone.localdate(), COOKIE_MONTHS)
    end = timezone.make_aware(datetime.datetime.combine(last, datetime.time.min))
    return int((end - timezone.now()).total_seconds())


def _cookie_breaches() -> list[str]:
    declared = {cookie.name: cookie for cookie in catalogue.declared_cookies()}
    host = _host()
    if host is None:
        return ["aucun nom d'hôte autorisé (ALLOWED_HOSTS) : cookies déposés non vérifiés"]
    limit = _thirteen_months_from_today()  # before the visit: a cookie set later lives less
    seen = observe(host)
    found = []
    undeclared: dict[str, list[str]] = {}
    for name, morsel, where in sorted(seen.settings, key=lambda s: (s[0], s[2])):
        life = _lifetime(morsel)
        cookie = declared.get(name)
        if cookie is None:
            undeclared.setdefault(name, []).append(where)
        elif cookie.max_age is None and life is not None:
            found.append(f"{name} dure {life} s au lieu de la session")
        elif cookie.max_age is not None and (life is None or life > cookie.max_age):
            found.append(f"{name} dure plus longtemps que déclaré ({cookie.lifetime})")
        elif name in THIRTEEN_MONTH_COOKIES and life > limit:
            found.append(f"{name} dure plus de {COOKIE_MONTHS} mois ({life} s)")
    for name, pages in undeclared.items():
        found.append(f"cookie non déclaré déposé : {name} ({', '.join(pages)})")
    for name in THIRTEEN_MONTH_COOKIES:
        if name not in seen.cookies:
            found.append(f"le cookie {name} n'a pas pu être observé")
    if seen.extended:
        found.append("le cookie de mesure d'audience est prolongé à chaque visite")
    return list(dict.fromkeys(found))  # once each, however many pages set it


def _data_breaches(now: datetime.datetime) -> list[str]:
    from mutualis.audience.models import AudienceEvent

    found = []
    old = AudienceEvent.objects.filter(at__lt=cutoff(now, Duration(months=EVENT_MONTHS)))
    if count := old.count():
        found.append(
            f"{count} événement{plural(count)} brut{plural(count)} de mesure d'audience "
            "de plus de 25 mois"
        )
    # An event more than 13 months after its cookie's first day: the cookie outlived its life.
    late = 0
    for since in AudienceEvent.objects.values_list("visitor_since", flat=True).distinct():
        end = timezone.make_aware(
            datetime.datetime.combine(add_months(since, COOKIE_MONTHS), datetime.time.min)
        )
        late += AudienceEvent.objects.filter(visitor_since=since, at__gte=end).count()
    if late:
        found.append(
            f"{late} événement{plural(late)} enregistré{plural(late)} avec un cookie "
            "de plus de 13 mois"
        )
    return found


@promises.register(
    "T7", section="II", title="Cookies et mesure d'audience dans l'exemption de la CNIL"
)
def cookies_and_statistics_as_declared(now) -> promises.Finding:
    from mutualis.audience.models import AudienceEvent

    breaches = _settings_breaches() + _cookie_breaches() + _data_breaches(now)
    return promises.Finding(checked=AudienceEvent.objects.count(), breaches=breaches)
