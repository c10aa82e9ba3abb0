"""The API's operations: thin, they validate, call the recipients app and shape the answer."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Query

from mutualis.members.validators import validate_nir
from mutualis.partners import problems
from mutualis.partners.api import api
from mutualis.partners.auth import PartnerKey
from mutualis.partners.schemas import NoticeList, ProblemOut, RightsCheckIn, RightsCheckOut
from mutualis.partners.validation import FIELD_MESSAGES
from mutualis.recipients import notices, rights_check
from mutualis.recipients.models import CheckOutcome, NoticeCause, Scope

STATUS = {
    CheckOutcome.COVERED: ("couvert", "droits ouverts : tiers payant possible"),
    CheckOutcome.NOT_COVERED: ("non_couvert", "aucun contrat en vigueur à cette date"),
    CheckOutcome.SUSPENDED: ("suspendu", "garanties suspendues (cotisations impayées)"),
    CheckOutcome.TERMINATED: ("resilie", "contrat résilié à cette date"),
}
# Unknown, restricted and erased all read alike: nothing may be told about the patient.
UNKNOWN = ("inconnu", "aucun droit ne peut être confirmé pour ce patient")
NATURE = {NoticeCause.RECTIFICATION: "rectification", NoticeCause.ERASURE: "effacement"}


# ISO 8601 as strings only: a bare number is not a date (pydantic would read it as a timestamp).
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"


# Years a ``depuis`` may name. Beyond them a moment cannot be converted to another time zone
# (year 1 or 9999 shifted by an offset overflows), and no notice can be found there anyway.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _refuse_moment(message: str) -> problems.Problem:
    return problems.Problem(
        problems.INVALID, message, errors=[{"champ": "depuis", "message": message}]
    )


def _moment(text: str) -> datetime.datetime:
    """The aware moment ``depuis`` names (a naive one is read in the mutuelle's time zone)."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise _refuse_moment(FIELD_MESSAGES["depuis"])
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise _refuse_moment(
            f"La date doit être comprise entre le 01/01/{FIRST_YEAR} et le 31/12/{LAST_YEAR}."
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _errors(*codes: int) -> dict[int, type[ProblemOut]]:
    return dict.fromkeys(codes, ProblemOut)


@api.post(
    "/rights-checks",
    auth=PartnerKey(Scope.RIGHTS_CHECK, body=True),
    response={200: RightsCheckOut, **_errors(400, 401, 403, 413, 415, 422, 429, 500)},
    operation_id="verifierDroits",
    summary="Vérifier les droits d'un patient à la date des soins (tiers payant)",
    tags=["droits"],
)
def check_rights(request: HttpRequest, payload: RightsCheckIn):
    nir = ""
    if payload.nir is not None:
        try:
            nir = validate_nir(payload.nir)
        except DjangoValidationError as error:
            message = " ".join(error.messages)
            raise problems.Problem(
                problems.INVALID, message, errors=[{"champ": "nir", "message": message}]
            ) from None
    answer = rights_check.check_rights(
        request=rights_check.CheckRequest(
            nir=nir,
            member_number=payload.numero_adherent or "",
            birth_date=payload.date_naissance,
            care_date=payload.date_soins,
        ),
        credential=request.auth,
    )
    status, label = STATUS.get(answer.outcome, UNKNOWN)
    return {
        "reference": answer.check.pk,
        "statut": status,
        "libelle": label,
        "date_soins": payload.date_soins,
        "organisme_complementaire": {
            "numero": rights_check.organisation_number(),
            "nom": settings.MUTUALIS_ORGANISATION["name"],
        },
        "garanties": [
            {
                "domaine": g.domain,
                "libelle": g.get_domain_display(),
                "taux": g.rate_percent,
                "tiers_payant": g.third_party_payment,
            }
            for g in answer.guarantees
        ],
    }


@api.get(
    "/notices",
    auth=PartnerKey(Scope.NOTICES_READ, query=("depuis", "limite")),
    response={200: NoticeList, **_errors(400, 401, 403, 422, 429, 500)},
    operation_id="listerAvis",
    summary="Lire les avis de rectification ou d'effacement de données reçues (RGPD art. 19)",
    tags=["avis"],
)
def list_notices(
    request: HttpRequest,
    depuis: str | None = Query(
        None,
        description="Seulement les avis créés après cette date (ISO 8601, par exemple "
        "2026-03-01T00:00:00+01:00).",
        pattern=ISO_DATETIME,
    ),
    limite: int = Query(50, ge=1, le=200, description="Nombre d'avis au plus."),
):
    since = _moment(depuis) if depuis is not None else None
    found = notices.for_organisation(request.auth.organisation, since=since, limit=limite)
    return {
        "avis": [
            {
                "id": notice.pk,
                "date": notice.created_at,
                "nature": NATURE[notice.cause],
                "references": notice.references,
                "categories": [notices.CATEGORY_LABELS.get(c, c) for c in notice.categories],
                "consigne": notices.INSTRUCTIONS[notice.cause],
            }
            for notice in found
        ]
    }
