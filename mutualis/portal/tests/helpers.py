"""Helpers shared by the member-space tests."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

from mutualis.billing.models import Mandate

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Pages a logged-in member sees (the contract page is added per member: its id is theirs).
MEMBER_PAGES = [
    "/espace/",
    "/espace/mes-donnees/",
    "/espace/coordonnees/",
    "/espace/compte-bancaire/",
    "/espace/compte-bancaire/confirmation/",
    "/espace/preferences/",
    "/espace/conditions/",
    "/espace/cotisations/",
]
PUBLIC_PAGES = [
    "/espace/connexion/",
    "/espace/mot-de-passe/",
    "/espace/mot-de-passe/envoye/",
    "/espace/mot-de-passe/termine/",
]


def member_pages(member) -> list[str]:
    return [*MEMBER_PAGES, f"/espace/contrats/{member.contracts.get().pk}/"]


def secrets_of(member) -> list[str]:
    """A member's NIR and IBAN, in the forms they could be printed in."""
    values = []
    nir = member.person.nir
    values += [
        nir,
        f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}",
    ]
    for mandate in Mandate.objects.filter(member=member):
        iban = mandate.iban
        values += [iban, " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))]
    return values


def new_member(first_names: str, email: str, seed: int):
    """A member who subscribed but has not chosen a password yet (activation pending)."""
    from mutualis.contracts import services
    from mutualis.contracts.testing import ensure_offers, make_application, make_person_data

    ensure_offers()
    rng = random.Random(seed)
    person = make_person_data(first_names=first_names, last_name="Petit", email=email, rng=rng)
    return services.subscribe(application=make_application(member=person, rng=rng)).member


def path_of(link: str) -> str:
    return urlsplit(link).path
