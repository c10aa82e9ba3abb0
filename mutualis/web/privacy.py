"""``privacy_check`` T7: cookies and audience statistics as section II of the policy says.

The web app holds no personal data of its own (no model to declare); it registers the check of
what the site really sets, since it serves the pages:

- the settings: the CSRF and session cookies last the browsing session, the audience cookie at
  most 13 months, the raw audience events at most 25 months;
- the live site: the main public and member-space pages, and a report to the audience endpoint,
  are requested in-process (inside a transaction rolled back, so nothing stays); every cookie
  they set must be declared, with no longer a life than declared, and a second report must not
  extend the audience cookie;
- the data: no raw audience event older than 25 months, none recorded for a cookie past its 13
  months.
"""

from __future__ import annotations

import datetime
import json
from http.cookies import Morsel

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualis.lib.dates import add_months
from mutualis.lib.french import plural
from mutualis.privacy import catalogue, promises
from mutualis.privacy.retention import cutoff

PAGES = ("web:home", "web:policy", "web:cookies", "web:contact", "portal:login")


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


def observed_cookies(host: str) -> tuple[dict[str, Morsel], bool]:
    """Every cookie the main pages and two audience reports set, and whether the second
    report set the audience cookie again (it must not)."""
    secure = bool(settings.SECURE_SSL_REDIRECT)
    client = Client(HTTP_HOST=host, secure=secure)
    seen: dict[str, Morsel] = {}
    origin = f"{'https' if secure else 'http'}://{host}"
    extended = False
    try:
        with transaction.atomic():
            for name in PAGES:
                seen.update(client.get(reverse(name)).cookies)
            report = {
                "path": reverse("web:audience_event"),
                "data": json.dumps({"t": "view", "p": reverse("web:home")}),
                "content_type": "application/json",
                "HTTP_ORIGIN": origin,
                "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            }
            seen.update(client.post(**report).cookies)
            extended = catalogue.AUDIENCE_COOKIE in client.post(**report).cookies
            raise _Rollback
    except _Rollback:
        pass
    return seen, extended


def _settings_breaches() -> list[str]:
    found = []
    if settings.CSRF_COOKIE_AGE is not None:
        found.append("le cookie CSRF dure au-delà de la session (CSRF_COOKIE_AGE)")
    if not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE:
        found.append("le cookie de session survit à la fermeture du navigateur")
    if catalogue.AUDIENCE_COOKIE_MONTHS > 13:
        found.append(f"cookie de mesure d'audience : {catalogue.AUDIENCE_COOKIE_MONTHS} mois")
    if catalogue.RETENTION_AUDIENCE.active.months > 25:
        found.append("données brutes de mesure d'audience conservées plus de 25 mois")
    return found


def _cookie_breaches() -> list[str]:
    declared = {cookie.name: cookie for cookie in catalogue.declared_cookies()}
    host = _host()
    if host is None:
        return ["aucun nom d'hôte autorisé (ALLOWED_HOSTS) : cookies déposés non vérifiés"]
    seen, extended = observed_cookies(host)
    found = []
    for name, morsel in sorted(seen.items()):
        life = _lifetime(morsel)
        if life == 0 or (not morsel.value and life is not None and life <= 0):
            continue  # a deletion
        cookie = declared.get(name)
        if cookie is None:
            found.append(f"cookie non déclaré déposé : {name}")
        elif cookie.max_age is None and life is not None:
            found.append(f"{name} dure {life} s au lieu de la session")
        elif cookie.max_age is not None and (life is None or life > cookie.max_age):
            found.append(f"{name} dure plus longtemps que déclaré ({cookie.lifetime})")
    if catalogue.AUDIENCE_COOKIE not in seen:
        found.append("le cookie de mesure d'audience n'a pas pu être observé")
    if extended:
        found.append("le cookie de mesure d'audience est prolongé à chaque visite")
    return found


def _data_breaches(now: datetime.datetime) -> list[str]:
    from mutualis.audience.models import AudienceEvent

    found = []
    old = AudienceEvent.objects.filter(at__lt=cutoff(now, catalogue.RETENTION_AUDIENCE.active))
    if count := old.count():
        found.append(
            f"{count} événement{plural(count)} brut{plural(count)} de mesure d'audience "
            "de plus de 25 mois"
        )
    # An event more than 13 months after its cookie's first day: the cookie outlived its life.
    late = 0
    for since in AudienceEvent.objects.values_list("visitor_since", flat=True).distinct():
        end = timezone.make_aware(
            datetime.datetime.combine(
                add_months(since, catalogue.AUDIENCE_COOKIE_MONTHS), datetime.time.min
            )
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
