"""Monthly premium estimates shown while choosing an offer."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mutualis.contracts.application import age_on
from mutualis.contracts.models import Offer
from mutualis.members.models import BeneficiaryRole
from mutualis.web.subscription import steps
from mutualis.web.subscription.steps import Wizard


def _covered_people(wizard: Wizard) -> list[tuple[str, datetime.date | None]]:
    member = steps.member_data(wizard.steps)
    people = [("Vous", member.birth_date)]
    for item in wizard.beneficiaries:
        data = steps.beneficiary_data(item)
        role = BeneficiaryRole(data.role).label if data.role in BeneficiaryRole.values else ""
        label = data.person.first_names or "Bénéficiaire"
        people.append((f"{label} ({role.lower()})" if role else label, data.person.birth_date))
    return people


def estimates(wizard: Wizard, offers: list[Offer]) -> dict[str, dict[str, Any]]:
    """Per offer: each covered person's age band and monthly premium today, and the total."""
    today = timezone.localdate()
    people = _covered_people(wizard)
    result = {}
    for offer in offers:
        rows = []
        total = Decimal("0")
        for label, birth in people:
            if birth is None or birth > today:
                continue
            age = age_on(birth, today)
            rate = next((r for r in offer.rates.all() if r.min_age <= age <= r.max_age), None)
            if rate is None:
                continue
            rows.append(
                {
                    "label": label,
                    "band": f"{rate.min_age} à {rate.max_age} ans"
                    if rate.max_age < 130
                    else f"{rate.min_age} ans et plus",
                    "amount": rate.monthly_amount,
                }
            )
            total += rate.monthly_amount
        result[offer.code] = {"offer": offer, "rows": rows, "total": total}
    return result
