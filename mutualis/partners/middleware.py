"""Under /api/, every error is a problem detail, even those Django answers before the API.

An unknown path (404), a method the operation does not take (405), a CSRF or host refusal
(403, 400) or an unexpected exception (500) would otherwise be an HTML page or plain text. This
middleware replaces them with RFC 9457 problems in French; the API's own problems pass as they
are.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from mutualis.partners import problems

logger = logging.getLogger("mutualis.partners")
PREFIX = "/api/"
DETAILS = {
    404: "Cette adresse ne correspond à aucune opération de l'API (voir /api/v1/openapi.json).",
    405: "Cette opération n'accepte pas cette méthode HTTP (voir l'en-tête Allow).",
}


class ProblemDetailsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith(problems.CONTENT_TYPE):
            return response
        problem = problems.BY_STATUS.get(response.status_code)
        if problem is None:
            problem = problems.SERVER_ERROR if response.status_code >= 500 else problems.BAD_REQUEST
        replaced = problems.response(
            problem,
            DETAILS.get(response.status_code, problem.title + "."),
            instance=request.path,
        )
        replaced.status_code = response.status_code
        if response.has_header("Allow"):
            replaced["Allow"] = response["Allow"]
        return replaced

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not request.path.startswith(PREFIX):
            return None
        logger.exception("partners API error on %s", request.path)
        return problems.response(
            problems.SERVER_ERROR,
            "Une erreur interne est survenue : la requête n'a pas été traitée.",
            instance=request.path,
        )
