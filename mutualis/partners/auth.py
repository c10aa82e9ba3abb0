"""Who calls: the organisation's API key, its scope, its rate limit, then the request's shape.

Runs before the body is read (ninja calls it first), in this order: the key (401), the scope
(403), the organisation's rate limit (429 with ``Retry-After``), URL parameters the operation
does not take (422), then, for operations with a body, its size (413) and type (415). Every
refusal of the first three is written to the security log, with the refusal's reason and the
key's public prefix at most: no key, no personal data.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security.base import AuthBase

from mutualis.audit.security import record_security_event
from mutualis.partners import problems
from mutualis.recipients import ratelimit
from mutualis.recipients.models import Credential, Scope
from mutualis.recipients.services import KeyRefusal, authenticate
from mutualis.recipients.tags import PartnerSecurity

REFUSALS = {
    KeyRefusal.MISSING: "Présentez votre clé d'API dans l'en-tête Authorization : Bearer <clé>.",
    KeyRefusal.MALFORMED: "Cette clé d'API n'a pas la forme attendue (mtl_…).",
    KeyRefusal.UNKNOWN: "Cette clé d'API n'est pas reconnue.",
    KeyRefusal.REVOKED: "Cette clé d'API a été révoquée.",
    KeyRefusal.EXPIRED: "Cette clé d'API a expiré : utilisez la clé qui la remplace.",
    KeyRefusal.SUSPENDED: "L'accès de votre organisme est suspendu : contactez la mutuelle.",
}
JSON = "application/json"


def _bearer(request: HttpRequest) -> str:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _refuse_key(request: HttpRequest, refusal: str, credential: Credential | None):
    details = {"reason": refusal, "path": request.path}
    if credential is not None:
        details["prefix"] = credential.prefix
    record_security_event(
        PartnerSecurity.KEY_REFUSED,
        request=request,
        actor=credential.organisation if credential is not None else None,
        details=details,
    )
    raise problems.Problem(
        problems.UNAUTHENTICATED,
        REFUSALS[refusal],
        headers={"WWW-Authenticate": 'Bearer realm="mutualis"'},
    )


def check_body(request: HttpRequest) -> None:
    """Refuse a body too large to read (413) or not JSON (415), before it is read."""
    limit = settings.MUTUALIS_PARTNER_MAX_BODY
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise problems.Problem(
            problems.TOO_LARGE, f"Le corps de la requête dépasse {limit} octets."
        )
    media_type = request.content_type or ""
    if media_type.lower() != JSON:
        raise problems.Problem(
            problems.MEDIA_TYPE,
            "Envoyez le corps de la requête en JSON (Content-Type: application/json).",
        )


def check_query(request: HttpRequest, allowed: frozenset[str]) -> None:
    """Refuse URL parameters the operation does not take: personal data never travels in a URL
    (a NIR in a query string would end in every proxy's log). Their names are not echoed."""
    if set(request.GET) - allowed:
        accepted = ", ".join(sorted(allowed)) or "aucun"
        message = f"Paramètre d'URL inattendu : cette opération n'accepte que {accepted}."
        raise problems.Problem(
            problems.INVALID, message, errors=[{"champ": "url", "message": message}]
        )


class PartnerKey(AuthBase):
    """Bearer API key of an organisation, holding ``scope``."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = "Clé d'API de l'organisme : Authorization: Bearer mtl_…"

    def __init__(self, scope: Scope, *, body: bool = False, query: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.scope = scope
        self.body = body
        self.query = frozenset(query)

    def __call__(self, request: HttpRequest) -> Credential:
        found = authenticate(_bearer(request))
        if found.refusal:
            _refuse_key(request, found.refusal, found.credential)
        credential = found.credential
        organisation = credential.organisation
        if self.scope not in credential.scopes:
            record_security_event(
                PartnerSecurity.SCOPE_REFUSED,
                request=request,
                actor=organisation,
                details={"prefix": credential.prefix, "scope": str(self.scope)},
            )
            raise problems.Problem(
                problems.FORBIDDEN,
                f"Cette clé n'a pas le droit « {self.scope.label} ».",
            )
        decision = ratelimit.hit(organisation)
        if not decision.allowed:
            record_security_event(
                PartnerSecurity.RATE_LIMITED,
                request=request,
                actor=organisation,
                details={"prefix": credential.prefix, "limit": decision.limit},
            )
            raise problems.Problem(
                problems.RATE_LIMITED,
                f"Votre organisme a dépassé {decision.limit} requêtes par minute : réessayez "
                f"dans {decision.retry_after} secondes.",
                headers={"Retry-After": str(decision.retry_after)},
                extra={"retry_after": decision.retry_after},
            )
        check_query(request, self.query)
        if self.body:
            check_body(request)
        return credential
