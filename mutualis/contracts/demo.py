"""Demo data: the offers, and a handful of members with beneficiaries (idempotent).

The members joined a year ago (their contracts start on the first day of the month, twelve
months back), as members taken over from the previous system are: the premiums, debits and
unpaid-premium steps of that year are then loaded by the billing demo.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from mutualis.contracts import services, terms
from mutualis.contracts.models import AcceptanceChannel
from mutualis.contracts.testing import (
    child_of,
    ensure_offers,
    make_application,
    make_person_data,
    spouse_of,
)
from mutualis.lib import links
from mutualis.lib.demo import DemoLogin, site_url
from mutualis.members.models import Member
from mutualis.members.validators import CIVILITY_FEMALE, CIVILITY_MALE

DEMO_PASSWORD = "Demo-adherent-2026"

# (first names, last name, civility, birth date, e-mail, offer, spouse?, children)
MEMBERS = [
    (
        "Alice",
        "Martin",
        CIVILITY_FEMALE,
        datetime.date(1985, 4, 12),
        "alice@example.org",
        "confort",
        False,
        1,
    ),
    (
        "Dave",
        "Durand",
        CIVILITY_MALE,
        datetime.date(1979, 11, 3),
        "dave@example.org",
        "essentielle",
        True,
        2,
    ),
    (
        "Inès",
        "Benali",
        CIVILITY_FEMALE,
        datetime.date(1992, 7, 21),
        "ines@example.org",
        "serenite",
        True,
        0,
    ),
    (
        "Marc",
        "Lefèvre",
        CIVILITY_MALE,
        datetime.date(1958, 2, 28),
        "marc@example.org",
        "confort",
        False,
        0,
    ),
]


def joined_on() -> datetime.date:
    """The first day of the month, a year ago."""
    today = timezone.localdate()
    return datetime.date(today.year - 1, today.month, 1)


def load() -> list[DemoLogin]:
    ensure_offers()
    logins = []
    for index, (first, last, civility, birth, email, offer, spouse, children) in enumerate(MEMBERS):
        member = Member.objects.filter(person__email=email).select_related("account").first()
        if member is None:
            rng = random.Random(1000 + index)
            person = make_person_data(
                civility=civility,
                first_names=first,
                last_name=last,
                birth_date=birth,
                email=email,
                rng=rng,
            )
            beneficiaries = [spouse_of(person, rng=rng)] if spouse else []
            beneficiaries += [
                child_of(person, first_names=name, age=age, rng=rng)
                for name, age in [("Léo", 8), ("Zoé", 12)][:children]
            ]
            application = make_application(
                member=person,
                beneficiaries=beneficiaries,
                offer_code=offer,
                rng=rng,
                start_date=joined_on(),
            )
            # The mandate was signed with the membership, a year ago.
            application.payment.signed_at = timezone.make_aware(
                datetime.datetime.combine(joined_on(), datetime.time(10))
            ) - datetime.timedelta(days=20)
            member = services.subscribe(application=application, imported=True).member
            terms.accept_cgu(member=member, channel=AcceptanceChannel.SUBSCRIPTION)
            account = services.open_account(member=member)
            account.set_password(DEMO_PASSWORD)
            account.save(update_fields=["password"])
        logins.append(
            DemoLogin(
                role=f"Adhérent ({first} {last})",
                url=site_url(links.path(links.MEMBER_LOGIN)),
                login=email,
                password=DEMO_PASSWORD,
            )
        )
    return logins
