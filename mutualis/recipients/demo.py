"""Demo data: a pharmacy with a known API key, a scheme organisation, an authority and its
requisition waiting for the DPO (idempotent)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from mutualis.lib import links
from mutualis.lib.demo import DemoLogin, site_url
from mutualis.members.models import Member
from mutualis.privacy import catalogue
from mutualis.recipients import requisitions
from mutualis.recipients.models import Credential, Organisation, OrganisationKind
from mutualis.recipients.models_requisitions import Requisition
from mutualis.recipients.testing import fixed_key, make_authority, make_pharmacy, make_scheme

# Development only: a key anyone reading this file knows. Never in production data.
DEMO_KEY = "mtl_pharmademo_Demo-tiers-payant-ne-pas-utiliser-en-production"


def _organisation(kind: str, name: str, make) -> Organisation:
    return Organisation.objects.filter(kind=kind, name=name).first() or make()


def load() -> list[DemoLogin]:
    pharmacy = _organisation(OrganisationKind.PHARMACY, "Pharmacie du Centre", make_pharmacy)
    if not Credential.objects.filter(prefix=DEMO_KEY.split("_")[1]).exists():
        fixed_key(pharmacy, DEMO_KEY)
    _organisation(OrganisationKind.SCHEME, "CPAM de Paris", make_scheme)
    authority = _organisation(
        OrganisationKind.AUTHORITY, "Tribunal judiciaire de Paris — parquet", make_authority
    )
    marc = Member.objects.filter(person__email="marc@example.org").select_related("person").first()
    if marc is not None and not Requisition.objects.filter(organisation=authority).exists():
        today = timezone.localdate()
        requisitions.register(
            organisation=authority,
            legal_basis="C. procédure pénale art. 77-1-1",
            reference="Parquet 2026/001",
            received_on=today,
            deadline=today + datetime.timedelta(days=15),
            people=[marc.person],
            categories=[catalogue.IDENTITY, catalogue.CONTACT, catalogue.CONTRACT_DATA],
            forbids_notice=False,
            actor=None,
        )
    alice = (
        Member.objects.filter(person__email="alice@example.org").select_related("person").first()
    )
    extra = "POST JSON, en-tête Authorization: Bearer <clé>"
    if alice is not None:
        extra += (
            f" ; patiente : numero_adherent {alice.number}, date_naissance "
            f"{alice.person.birth_date.isoformat()} (docs/partners_api.md)"
        )
    return [
        DemoLogin(
            role="API tiers payant (Pharmacie du Centre)",
            url=site_url(links.path(links.RIGHTS_CHECK_API)),
            login="clé d'API",
            password=DEMO_KEY,
            extra=extra,
        )
    ]
