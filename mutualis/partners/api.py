"""The API for outside recipients, ``/api/v1/`` (django-ninja).

The OpenAPI 3 schema is generated from the operations and their schemas, served at
``/api/v1/openapi.json`` and committed as ``docs/partners_openapi.json`` (a test fails when
they differ; ``manage.py partners_openapi --write`` updates the file). Every error is an RFC
9457 problem in French (:mod:`.problems`); the schema says so (``application/problem+json``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from mutualis.partners import problems
from mutualis.partners.validation import field_errors
from mutualis.recipients.rights_check import CheckInputError

logger = logging.getLogger("mutualis.partners")

DESCRIPTION = (
    "API de la mutuelle pour les professionnels de santé pratiquant le tiers payant "
    "(pharmacies, hôpitaux, cliniques, centres de santé, opticiens) : vérification des droits "
    "d'un patient à la date des soins, et avis de rectification ou d'effacement des données "
    "reçues (RGPD art. 19). Chaque réponse concernant une personne est inscrite au registre "
    "des communications de la mutuelle. Les erreurs suivent la RFC 9457 (problem details)."
)
INPUT_ERROR_FIELDS = {"birth_date": "date_naissance", "care_date": "date_soins", "nir": "nir"}


class PartnersAPI(NinjaAPI):
    def create_response(self, request: HttpRequest, data: Any, **kwargs) -> HttpResponse:
        """Every answer of an operation concerns a person (a rights check) or what they asked
        (the notices): no cache may keep it. Problems say the same (:mod:`.problems`)."""
        response = super().create_response(request, data, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, answer in operation.get("responses", {}).items():
                    _document_problem(int(code), answer)
        return schema


ANSWERS = {
    200: "Réponse.",
    400: "Corps illisible (pas du JSON).",
    401: "Clé d'API absente, inconnue, révoquée ou expirée.",
    403: "La clé n'a pas le droit requis.",
    413: "Corps de requête trop volumineux.",
    415: "Corps de requête qui n'est pas du JSON (Content-Type).",
    422: "Données invalides (champ, format, date, clé du NIR).",
    429: "Limite de requêtes de l'organisme atteinte.",
    500: "Erreur interne : la requête n'a pas été traitée.",
}


def _document_problem(code: int, answer: dict) -> None:
    """Every answer is ``no-store``; error answers are problem details; 401 and 429 carry their
    headers; French texts."""
    answer["description"] = ANSWERS.get(code, answer.get("description", ""))
    answer["headers"] = {
        "Cache-Control": {
            "description": "no-store : aucun cache ne doit garder la réponse.",
            "required": True,
            "schema": {"type": "string", "enum": ["no-store"]},
        }
    }
    if code < 400:
        return
    content = answer.get("content", {})
    if "application/json" in content:
        content[problems.CONTENT_TYPE] = content.pop("application/json")
    if code == 401:
        answer["headers"] |= {
            "WWW-Authenticate": {
                "description": "Schéma d'authentification attendu.",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    if code == 429:
        answer["headers"] |= {
            "Retry-After": {
                "description": "Secondes à attendre avant de réessayer.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        }


api = PartnersAPI(
    title="Mutualis — API des professionnels de santé",
    version="1",
    description=DESCRIPTION,
    urls_namespace="partners",
    openapi_url="/openapi.json",
    docs_url=None,  # no interactive page: its scripts would break the site's strict CSP
)


def _instance(request: HttpRequest) -> str:
    return request.path


@api.exception_handler(problems.Problem)
def on_problem(request: HttpRequest, exc: problems.Problem) -> HttpResponse:
    return problems.from_exception(exc, instance=_instance(request))


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problems.response(
        problems.INVALID,
        "Certaines données de la requête sont invalides : voir « erreurs ».",
        instance=_instance(request),
        errors=field_errors(exc.errors),
    )


@api.exception_handler(CheckInputError)
def on_check_input(request: HttpRequest, exc: CheckInputError) -> HttpResponse:
    name = INPUT_ERROR_FIELDS.get(exc.field, exc.field)
    return problems.response(
        problems.INVALID,
        str(exc),
        instance=_instance(request),
        errors=[{"champ": name, "message": str(exc)}],
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problems.response(
        problems.UNAUTHENTICATED,
        "Présentez votre clé d'API dans l'en-tête Authorization : Bearer <clé>.",
        instance=_instance(request),
        headers={"WWW-Authenticate": 'Bearer realm="mutualis"'},
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja turns any failure to parse the body into a 400 (the body is not JSON).
    problem = problems.BY_STATUS.get(exc.status_code, problems.BAD_REQUEST)
    detail = (
        "Le corps de la requête n'est pas un JSON valide (UTF-8)."
        if problem is problems.BAD_REQUEST
        else problem.title + "."
    )
    return problems.response(problem, detail, instance=_instance(request))


@api.exception_handler(Exception)
def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The path, never the body (it may hold a NIR); the log filter redacts NIR shapes anyway.
    logger.exception("partners API error on %s", request.path)
    return problems.response(
        problems.SERVER_ERROR,
        "Une erreur interne est survenue : la requête n'a pas été traitée, réessayez plus tard.",
        instance=_instance(request),
    )


# The operations register themselves on ``api`` (imported last: they import ``api``).
from mutualis.partners import views  # noqa: E402, F401
