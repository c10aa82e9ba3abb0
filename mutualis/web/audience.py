"""First-party audience measurement: the endpoint the site's own script reports to, and the
visitor's opt-out on the cookies page (policy section II; CNIL audience exemption).

The endpoint takes a small JSON object from ``web/audience.js`` — ``{"t": "view" | "leave",
"p": location.pathname, "d": milliseconds visible}`` — and keeps, for it, the route of the page
(never its path: ``/espace/contrats/<uuid>/`` is ``portal:contract``), the browser family, the
visitor's random identifier and the time. The client's address is never kept with the
statistics: it is read only to limit how many reports one client may send (a small allowance per
minute, counted under a keyed hash of the address in the rate-limit cache,
:mod:`mutualis.web.ratelimit`), and a client over it gets 429 and nothing is recorded. It sets
the audience cookie once, on the first event of a browser, for 13 months from that day at most,
and never again while it is valid. It records nothing, and sets nothing, for a browser that opted
out (refusal cookie) or sends a Global Privacy Control or Do Not Track signal, for a robot, or
for a request from another site. Anything malformed is refused with 400: a body that is not a
small JSON object, an unknown kind or page, a duration that is not a finite number of
milliseconds (``1e400``, ``Infinity``, ``NaN``).
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mutualis.audience import browsers, services, visitor
from mutualis.audience.models import EventKind
from mutualis.web.ratelimit import audience_report_limit, client_address

MAX_BODY = 1024
# Pages of these namespaces are measured: the public site and the member space.
MEASURED = {"web", "portal", "web:subscription"}


def refuses(request: HttpRequest) -> bool:
    """Whether this browser said no: the refusal cookie, or a GPC or DNT signal."""
    return (
        request.COOKIES.get(visitor.REFUSAL_COOKIE) == "1"
        or request.headers.get("Sec-GPC") == "1"
        or request.headers.get("DNT") == "1"
    )


def _same_site(request: HttpRequest) -> bool:
    """A report from one of our own pages (browsers send Origin with a POST, and Sec-Fetch-Site
    when they know it)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if not origin:
        return fetch_site == "same-origin"
    return url_has_allowed_host_and_scheme(
        origin + "/", allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def page_of(path: object) -> str | None:
    """The route a reported path names (``web:home``), or ``None`` for what is not measured."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 500:
        return None
    try:
        match = resolve(path.split("?", 1)[0])
    except Resolver404:
        return None
    if match.namespace not in MEASURED or not match.url_name:
        return None
    return f"{match.namespace}:{match.url_name}"


def _no_constant(name: str):
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259): refused."""
    raise ValueError(f"{name} is not a number")


def _parse(request: HttpRequest) -> tuple[str, str, int | None] | None:
    if len(request.body) > MAX_BODY:
        return None
    try:
        data = json.loads(request.body or b"{}", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("t") not in EventKind.values:
        return None
    page = page_of(data.get("p"))
    if page is None:
        return None
    duration = data.get("d")
    if data["t"] == EventKind.LEAVE:
        if not isinstance(duration, int | float) or isinstance(duration, bool):
            return None
        if isinstance(duration, float) and not math.isfinite(duration):  # 1e400 reads as inf
            return None
        if duration < 0:
            return None
        return data["t"], page, int(duration)
    return data["t"], page, None


def set_visitor_cookie(response: HttpResponse, who: visitor.Visitor) -> None:
    """Once, at the first event: expires 13 months after the first day, never pushed back."""
    response.set_cookie(
        visitor.COOKIE,
        who.cookie_value(),
        max_age=visitor.seconds_left(who.since),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@csrf_exempt  # a report, from our own origin only (checked), that changes nothing of anyone's
@never_cache
@require_POST
def event(request: HttpRequest) -> HttpResponse:
    if not _same_site(request):
        return HttpResponse(status=403)
    response = HttpResponse(status=204)
    if refuses(request):
        return response
    if not audience_report_limit().allow(client_address(request)):
        return HttpResponse(status=429)
    parsed = _parse(request)
    if parsed is None:
        return HttpResponse(status=400)
    browser = browsers.family(request.headers.get("User-Agent", ""))
    if browser == browsers.ROBOT:
        return response
    who = visitor.from_cookie(request.COOKIES.get(visitor.COOKIE))
    if who is None:
        who = visitor.new_visitor()
        set_visitor_cookie(response, who)
    kind, page, duration = parsed
    services.record_event(visitor=who, kind=kind, page=page, browser=browser, duration_ms=duration)
    return response


@require_POST
def choice(request: HttpRequest) -> HttpResponse:
    """The cookies page's buttons: refuse the measurement (honoured at once: the cookie goes,
    this browser's raw events too, and nothing more is recorded), or accept it again. The
    refusal is remembered 13 months from today, exactly as long as the audience cookie lives."""
    response = HttpResponseRedirect(reverse("web:cookies") + "?choix=enregistre")
    if request.POST.get("mesure") == "refuser":
        who = visitor.from_cookie(request.COOKIES.get(visitor.COOKIE))
        if who is not None:
            services.forget_visitor(visitor=who)
        response.delete_cookie(visitor.COOKIE, samesite="Lax")
        response.set_cookie(
            visitor.REFUSAL_COOKIE,
            "1",
            max_age=visitor.seconds_left(timezone.localdate()),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif request.POST.get("mesure") == "accepter":
        response.delete_cookie(visitor.REFUSAL_COOKIE, samesite="Lax")
    return response
