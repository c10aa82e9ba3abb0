"""Errors of the API as RFC 9457 problem details, in French.

Each problem has a stable ``type`` (a URI reference under ``/api/v1/problemes/``, listed in
docs/partners_api.md), a French ``title`` that depends only on the type, a French ``detail``
for this occurrence, and the HTTP ``status``. Invalid fields are listed in ``erreurs`` (field
and message), never with the value that was sent: a NIR typed wrong stays out of the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.http import HttpResponse

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problemes/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


BAD_REQUEST = ProblemType("requete-illisible", 400, "Requête illisible")
UNAUTHENTICATED = ProblemType("cle-refusee", 401, "Clé d'API absente ou refusée")
FORBIDDEN = ProblemType("droit-manquant", 403, "Cette clé n'a pas ce droit")
NOT_FOUND = ProblemType("introuvable", 404, "Ressource introuvable")
METHOD = ProblemType("methode-non-permise", 405, "Méthode non permise")
NOT_ACCEPTABLE = ProblemType("format-non-disponible", 406, "Format de réponse non disponible")
TOO_LARGE = ProblemType("requete-trop-volumineuse", 413, "Requête trop volumineuse")
MEDIA_TYPE = ProblemType("format-non-accepte", 415, "Format de requête non accepté")
INVALID = ProblemType("donnees-invalides", 422, "Données invalides")
RATE_LIMITED = ProblemType("trop-de-requetes", 429, "Trop de requêtes")
SERVER_ERROR = ProblemType("erreur-interne", 500, "Erreur interne")

ALL_TYPES = (
    BAD_REQUEST,
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD,
    NOT_ACCEPTABLE,
    TOO_LARGE,
    MEDIA_TYPE,
    INVALID,
    RATE_LIMITED,
    SERVER_ERROR,
)
BY_STATUS = {problem.status: problem for problem in ALL_TYPES}


class Problem(Exception):
    """Raised anywhere in the API to answer with a problem (caught by the API's handler)."""

    def __init__(
        self,
        problem: ProblemType,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


def response(
    problem: ProblemType,
    detail: str,
    *,
    instance: str = "",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    body = {
        "type": problem.uri,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["erreurs"] = errors
    body.update(extra or {})
    answer = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=problem.status,
        content_type=CONTENT_TYPE,
    )
    answer["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        answer[name] = value
    return answer


def from_exception(exc: Problem, *, instance: str = "") -> HttpResponse:
    return response(
        exc.problem,
        exc.detail,
        instance=instance,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )
