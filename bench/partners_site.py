"""The site as the partners' API benchmark serves it (gunicorn ``bench.partners_site``): the
real URLs, plus the baseline (``bench/partners_urls.py``).

The baseline (``POST /bench/bare-check``) reads the same JSON body and the same rows as the
rights check — the person by the NIR's blind index, the birth date decrypted, the contracts and
the cover status, the offer's guarantee levels — and returns the same JSON, without API key,
rate limit, validation schema, disclosure, audit or problem details.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualis.settings")


def bare_check(request):
    import datetime

    from django.conf import settings
    from django.http import JsonResponse

    from mutualis.contracts.cover import CoverStatus
    from mutualis.members.models import Person
    from mutualis.recipients.rights_check import cover_of

    body = json.loads(request.body)
    birth = datetime.date.fromisoformat(body["date_naissance"])
    care = datetime.date.fromisoformat(body["date_soins"])
    person = Person.objects.select_related("data_key").with_nir(body["nir"]).first()
    status, contract = (CoverStatus.NOT_COVERED, None)
    if person is not None and person.birth_date == birth:
        status, contract = cover_of(person, on=care)
    guarantees = list(contract.offer.guarantees.order_by("domain")) if contract else []
    return JsonResponse(
        {
            "reference": "00000000-0000-0000-0000-000000000000",
            "statut": status.value,
            "libelle": status.label,
            "date_soins": care.isoformat(),
            "organisme_complementaire": {
                "numero": settings.MUTUALIS_AMC_NUMBER,
                "nom": settings.MUTUALIS_ORGANISATION["name"],
            },
            "garanties": [
                {
                    "domaine": g.domain,
                    "libelle": g.get_domain_display(),
                    "taux": g.rate_percent,
                    "tiers_payant": g.third_party_payment,
                }
                for g in guarantees
            ],
        }
    )


def application_factory():
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.partners_urls"
    from mutualis.wsgi import application

    return application


application = None
if os.environ.get("MUTUALIS_BENCH_SERVE"):
    application = application_factory()
