"""Builders for tests, the demo and the benchmark: organisations and their keys."""

from __future__ import annotations

from mutualis.recipients import services
from mutualis.recipients.identifiers import IdentifierType, finess_key
from mutualis.recipients.models import Credential, Organisation, OrganisationKind, Scope

ALL_SCOPES = (Scope.RIGHTS_CHECK, Scope.NOTICES_READ)


def finess(first_eight: str) -> str:
    """A valid FINESS number from its first eight characters."""
    return first_eight + finess_key(first_eight)


def make_pharmacy(
    *, name: str = "Pharmacie du Centre", first_eight: str = "75000001", rate_limit=None
) -> Organisation:
    return services.register_organisation(
        data=services.OrganisationData(
            kind=OrganisationKind.PHARMACY,
            name=name,
            identifier_type=IdentifierType.FINESS,
            identifier=finess(first_eight),
            address="1 place de la République\n75003 Paris",
            contact_name="Claire Dubois",
            contact_email="contact@pharmacie-centre.example",
            rate_limit=rate_limit,
        ),
        actor=None,
    )


def make_scheme(*, name: str = "CPAM de Paris", code: str = "01751") -> Organisation:
    return services.register_organisation(
        data=services.OrganisationData(
            kind=OrganisationKind.SCHEME,
            name=name,
            identifier_type=IdentifierType.SCHEME,
            identifier=code,
            address="21 rue Georges Auric\n75019 Paris",
        ),
        actor=None,
    )


def make_authority(*, name: str = "Tribunal judiciaire de Paris — parquet") -> Organisation:
    return services.register_organisation(
        data=services.OrganisationData(
            kind=OrganisationKind.AUTHORITY,
            name=name,
            identifier_type=IdentifierType.NONE,
            address="Parvis du tribunal de Paris\n75017 Paris",
        ),
        actor=None,
    )


def fixed_key(organisation: Organisation, key: str, scopes=ALL_SCOPES) -> Credential:
    """A credential for a key chosen in advance (tests that must know it before the database
    exists, the demo): ``mtl_<10 characters>_<secret>``."""
    prefix = key.split("_", 2)[1]
    return Credential.objects.create(
        organisation=organisation,
        prefix=prefix,
        secret_hash=services.hash_key(key),
        scopes=sorted(scopes),
        created_by="system",
        label="clé fixée",
    )


def key_for(organisation: Organisation, scopes=ALL_SCOPES, **kwargs) -> str:
    return services.issue_key(organisation=organisation, scopes=scopes, actor=None, **kwargs)[1]
