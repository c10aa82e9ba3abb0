"""A new year's rates: a dated rate table per offer, imported from a CSV file.

    offre;age_min;age_max;montant
    confort;0;19;27,00
    confort;20;39;49,50
    …

Each offer's bands must cover every age from 0 to 130 once, amounts in euros with two decimals
at most. The table applies from ``effective_from`` (normally 1 January), which must be in the
future: months already booked keep the rate they were booked at. The months of that date and
after that were already scheduled (the schedule of next year is built from 1 November) are
computed again, so the pre-notification of the next daily run announces the new amounts before
they apply. All or nothing, audited.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.billing import schedule
from mutualis.billing.tags import BillingTag
from mutualis.contracts.models import Contract, Offer, PremiumRate

MAX_AGE = 130
COLUMNS = ("offre", "age_min", "age_max", "montant")


class TariffError(ValueError):
    """The file is refused whole (message in French)."""


@dataclass(frozen=True)
class Band:
    offer: str
    min_age: int
    max_age: int
    amount: Decimal


def read(data: bytes) -> list[Band]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TariffError("Le fichier doit être un CSV en UTF-8.") from None
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if header[: len(COLUMNS)] != list(COLUMNS):
        raise TariffError(f"En-tête attendu : {';'.join(COLUMNS)}.")
    reader.fieldnames = header
    bands = []
    for number, row in enumerate(reader, start=2):
        where = f"Ligne {number}"
        if None in row:
            raise TariffError(f"{where} : trop de colonnes.")
        try:
            low, high = int(row["age_min"]), int(row["age_max"])
        except (TypeError, ValueError):
            raise TariffError(f"{where} : âges entiers attendus.") from None
        if not 0 <= low <= high <= MAX_AGE:
            raise TariffError(f"{where} : tranche d'âge {low}-{high} impossible (0 à {MAX_AGE}).")
        try:
            amount = Decimal((row["montant"] or "").strip().replace(",", "."))
        except InvalidOperation:
            raise TariffError(f"{where} : montant illisible ({row['montant']!r}).") from None
        if not amount.is_finite() or amount < 0 or amount > 10_000:
            raise TariffError(f"{where} : montant non valable ({row['montant']!r}).")
        if amount != amount.quantize(Decimal("0.01")):
            raise TariffError(f"{where} : deux décimales au plus ({row['montant']!r}).")
        bands.append(Band((row["offre"] or "").strip(), low, high, amount))
    if not bands:
        raise TariffError("Le fichier ne contient aucune tranche.")
    return bands


def check(bands: list[Band]) -> dict[str, list[Band]]:
    by_offer: dict[str, list[Band]] = defaultdict(list)
    for band in bands:
        by_offer[band.offer].append(band)
    known = set(Offer.objects.filter(code__in=by_offer).values_list("code", flat=True))
    unknown = sorted(set(by_offer) - known)
    if unknown:
        raise TariffError(f"Formule inconnue : {', '.join(unknown)}.")
    for code, rows in by_offer.items():
        expected = 0
        for band in sorted(rows, key=lambda b: b.min_age):
            if band.min_age != expected:
                raise TariffError(
                    f"Formule {code} : les âges de {expected} à {band.min_age - 1} n'ont pas de "
                    "tarif, ou deux tranches se chevauchent."
                    if band.min_age > expected
                    else f"Formule {code} : l'âge {band.min_age} est dans deux tranches."
                )
            expected = band.max_age + 1
        if expected != MAX_AGE + 1:
            raise TariffError(f"Formule {code} : les âges après {expected - 1} n'ont pas de tarif.")
    return by_offer


def import_table(
    data: bytes, *, effective_from: datetime.date, actor=None, today: datetime.date | None = None
) -> int:
    """Record the tables; returns how many scheduled months were computed again."""
    today = today or timezone.localdate()
    if effective_from <= today:
        raise TariffError(
            "Un nouveau tarif ne peut s'appliquer qu'à une date future : les mois déjà "
            "facturés gardent leur tarif."
        )
    by_offer = check(read(data))
    with transaction.atomic():
        offers = {o.code: o for o in Offer.objects.filter(code__in=by_offer)}
        taken = set(
            PremiumRate.objects.filter(
                offer__in=offers.values(), effective_from=effective_from
            ).values_list("offer__code", flat=True)
        )
        if taken:
            offers_taken = ", ".join(sorted(taken))
            raise TariffError(
                f"Un tarif au {effective_from:%d/%m/%Y} existe déjà pour : {offers_taken}."
            )
        PremiumRate.objects.bulk_create(
            PremiumRate(
                offer=offers[b.offer],
                min_age=b.min_age,
                max_age=b.max_age,
                monthly_amount=b.amount,
                effective_from=effective_from,
            )
            for rows in by_offer.values()
            for b in rows
        )
        audit.record(
            BillingTag.TARIFF_IMPORT,
            actor=actor,
            details={
                "effective_from": effective_from.isoformat(),
                "offers": sorted(by_offer),
                "bands": sum(len(rows) for rows in by_offer.values()),
            },
        )
        changed = 0
        month = effective_from.replace(day=1)
        contracts = Contract.objects.filter(offer__in=offers.values()).filter(
            instalments__month__gte=month
        )
        for contract in contracts.distinct().select_related("offer", "member__person"):
            changed += schedule.recompute(
                contract, from_month=month, reason="nouveau tarif", actor=actor
            )
    return changed
