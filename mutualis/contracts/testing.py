"""Builders of valid offers and applications, for tests, demo data and benchmarks."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from mutualis.contracts.application import (
    Application,
    BeneficiaryApplication,
    PaymentApplication,
)
from mutualis.contracts.models import CareDomain, Guarantee, Offer, PremiumRate
from mutualis.members.models import BeneficiaryRole
from mutualis.members.services import PersonData
from mutualis.members.testing import make_french_iban, make_nir
from mutualis.members.validators import CIVILITY_FEMALE, CIVILITY_MALE

OFFERS = [
    (
        "essentielle",
        "Essentielle",
        "Les remboursements essentiels : soins courants, hospitalisation.",
        [(0, 19, "18.50"), (20, 39, "32.00"), (40, 59, "45.00"), (60, 130, "68.00")],
    ),
    (
        "confort",
        "Confort",
        "Optique, dentaire et médecines douces mieux remboursés.",
        [(0, 19, "26.00"), (20, 39, "48.00"), (40, 59, "64.00"), (60, 130, "92.00")],
    ),
    (
        "serenite",
        "Sérénité",
        "La couverture la plus complète, dépassements d'honoraires compris.",
        [(0, 19, "34.00"), (20, 39, "65.00"), (40, 59, "86.00"), (60, 130, "124.00")],
    ),
]


# Guarantee levels of each offer (% of the base de remboursement), by domain of care.
GUARANTEES = {
    "essentielle": {"PHAR": 100, "MEDE": 100, "LABO": 100, "HOSP": 100, "OPTI": 100, "DENT": 125},
    "confort": {
        "PHAR": 100,
        "MEDE": 150,
        "LABO": 100,
        "HOSP": 200,
        "OPTI": 250,
        "DENT": 200,
        "AUDI": 150,
    },
    "serenite": {
        "PHAR": 100,
        "MEDE": 250,
        "LABO": 150,
        "HOSP": 300,
        "OPTI": 400,
        "DENT": 300,
        "AUDI": 250,
    },
}


def ensure_offers() -> list[Offer]:
    """Create the standard offers, their premium tables and guarantee levels if missing
    (idempotent)."""
    offers = []
    for position, (code, name, description, rates) in enumerate(OFFERS):
        offer, created = Offer.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "position": position}
        )
        if created:
            PremiumRate.objects.bulk_create(
                PremiumRate(offer=offer, min_age=lo, max_age=hi, monthly_amount=Decimal(amount))
                for lo, hi, amount in rates
            )
        known = set(offer.guarantees.values_list("domain", flat=True))
        Guarantee.objects.bulk_create(
            Guarantee(offer=offer, domain=CareDomain(domain), rate_percent=percent)
            for domain, percent in GUARANTEES.get(code, {}).items()
            if domain not in known
        )
        offers.append(offer)
    return offers


def make_person_data(
    *,
    civility: str = CIVILITY_FEMALE,
    last_name: str = "Martin",
    first_names: str = "Alice",
    birth_date: datetime.date = datetime.date(1985, 4, 12),
    email: str = "alice@example.org",
    with_nir: bool = True,
    rng: random.Random | None = None,
    **extra,
) -> PersonData:
    data = PersonData(
        civility=civility,
        last_name=last_name,
        first_names=first_names,
        birth_date=birth_date,
        nir=make_nir(civility=civility, birth_date=birth_date, rng=rng) if with_nir else None,
        email=email,
        address_line1="12 rue des Lilas",
        postal_code="75011",
        city="Paris",
        phone_mobile="+33612345678",
        scheme_regime="01",
        scheme_caisse="751",
        scheme_centre="0001",
        scheme_organisation="CPAM de Paris",
    )
    for name, value in extra.items():
        setattr(data, name, value)
    return data


def make_application(
    *,
    member: PersonData | None = None,
    beneficiaries: list[BeneficiaryApplication] | None = None,
    offer_code: str = "confort",
    rng: random.Random | None = None,
    **extra,
) -> Application:
    from mutualis.contracts import terms
    from mutualis.privacy.policy import current_version, publish

    policy = current_version() or publish()[0]
    cgu = terms.current_cgu() or terms.publish_cgu()[0]
    member = member or make_person_data(rng=rng)
    application = Application(
        member=member,
        offer_code=offer_code,
        start_date=timezone.localdate(),
        payment=PaymentApplication(
            iban=make_french_iban(rng),
            bic="",
            debtor_name=f"{member.first_names} {member.last_name}",
            signed_place=member.city or "Paris",
        ),
        beneficiaries=beneficiaries if beneficiaries is not None else [],
        cgu_version=cgu.slug,
        policy_version_id=policy.pk,
    )
    for name, value in extra.items():
        setattr(application, name, value)
    return application


def child_of(
    member: PersonData,
    *,
    first_names: str = "Léo",
    age: int = 8,
    attached: bool = True,
    rng: random.Random | None = None,
) -> BeneficiaryApplication:
    today = timezone.localdate()
    birth = datetime.date(today.year - age, 3, 15)
    return BeneficiaryApplication(
        role=BeneficiaryRole.CHILD,
        person=make_person_data(
            civility=CIVILITY_MALE,
            last_name=member.last_name,
            first_names=first_names,
            birth_date=birth,
            email="",
            with_nir=not attached,
            rng=rng,
        ),
        attached_to_member_nir=attached,
    )


def spouse_of(
    member: PersonData, *, first_names: str = "Paul", rng: random.Random | None = None
) -> BeneficiaryApplication:
    return BeneficiaryApplication(
        role=BeneficiaryRole.SPOUSE,
        person=make_person_data(
            civility=CIVILITY_MALE,
            last_name=member.last_name,
            first_names=first_names,
            birth_date=datetime.date(1983, 9, 2),
            email="",
            rng=rng,
        ),
    )


def subscribe_with_twins(rng: random.Random, names: tuple[str, str] = ("Inès", "Yanis")):
    """A member whose twins are attached to her NIR (one birth date for both); returns the
    member and the twins' applications."""
    from mutualis.contracts import services

    ensure_offers()
    parent = make_person_data(first_names="Nadia", last_name="Benali", rng=rng)
    twins = [child_of(parent, first_names=name, rng=rng) for name in names]
    member = services.subscribe(
        application=make_application(member=parent, beneficiaries=twins, rng=rng)
    ).member
    return member, twins
