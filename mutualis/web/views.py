"""Public pages. The policy page shows a published, dated version generated from the declaration."""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from mutualis.contracts import terms
from mutualis.privacy import catalogue, policy
from mutualis.privacy.models import PolicyVersion
from mutualis.web.audience import refuses


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")


@require_safe
def privacy_policy(request: HttpRequest, version: str | None = None) -> HttpResponse:
    versions = list(PolicyVersion.objects.published())
    current = versions[0] if versions else None
    if version is None:
        shown = current
    else:
        try:
            effective_date = datetime.date.fromisoformat(version)
        except ValueError:
            raise Http404("Version inconnue") from None
        shown = get_object_or_404(PolicyVersion, effective_date=effective_date)
    context = {
        "version": shown,
        "versions": versions,
        "is_current": shown is not None and shown == current,
        "has_previous": shown is not None and terms.previous_policy(shown) is not None,
        "draft_html": policy.render_policy_body() if shown is None else "",
    }
    return render(request, "web/policy.html", context)


@require_safe
def policy_changes(request: HttpRequest, version: str) -> HttpResponse:
    """What a policy version changed from the one before: a readable diff of the two texts."""
    try:
        effective_date = datetime.date.fromisoformat(version)
    except ValueError:
        raise Http404("Version inconnue") from None
    shown = get_object_or_404(PolicyVersion, effective_date=effective_date)
    context = {
        "version": shown,
        "previous": terms.previous_policy(shown),
        "changes": terms.policy_changes(shown),
    }
    return render(request, "web/policy_changes.html", context)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on every site: the icon among the static files."""
    return redirect(static("web/favicon.ico"), permanent=True)


@require_safe
def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "web/legal.html")


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (déclaration d'accessibilité, RGAA 4.1; loi 2005-102
    art. 47), with its contact and the recourse to the Défenseur des droits."""
    return render(request, "web/accessibility.html", {"statement": ACCESSIBILITY_STATEMENT})


# What the statement declares; changed here when an audit is made or a page changes.
ACCESSIBILITY_STATEMENT = {
    "status": "partiellement conforme",
    "established": datetime.date(2026, 12, 2),
    "method": "contrôle automatique de chaque page du site public, de l'espace adhérent et de "
    "la gestion interne par axe-core (règles WCAG 2.1 niveaux A et AA) dans le navigateur "
    "Chromium, et parcours au clavier seul ; aucun audit RGAA complet par un tiers n'a encore "
    "été réalisé",
}


@require_safe
def cookies(request: HttpRequest) -> HttpResponse:
    """The cookies the site sets, from the declaration, and the audience opt-out."""
    context = {
        "cookies": catalogue.declared_cookies(),
        "audience": catalogue.AUDIENCE_STATISTICS,
        "refused": refuses(request),
        "refusal_cookie": request.COOKIES.get(catalogue.AUDIENCE_REFUSAL_COOKIE) == "1",
        "saved": request.GET.get("choix") == "enregistre",
    }
    return render(request, "web/cookies.html", context)
