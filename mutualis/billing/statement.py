"""What a member's premiums look like on a day: the schedule, the next debit, payments and
rejections, the balance, the unpaid-premium file, and the yearly payment certificate.

Read by the member space ("Mes cotisations") and by the cotisations service's view of a member
in the back office; every figure is computed from the ledger and the schedule, never stored.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format

from mutualis import audit
from mutualis.billing import dunning, ledger
from mutualis.billing.models import (
    DebitStatus,
    DunningCase,
    DunningLetter,
    Instalment,
    LedgerEntry,
    LedgerKind,
    Mandate,
    PreNotification,
    superseded_notice,
)
from mutualis.billing.tags import BillingTag
from mutualis.lib import pdf
from mutualis.members.models import Member

ZERO = Decimal("0.00")
RECEIVED = (LedgerKind.DEBIT, LedgerKind.CHEQUE, LedgerKind.TRANSFER)
TAKEN_BACK = (LedgerKind.REJECTION, LedgerKind.REFUND)


@dataclass(frozen=True)
class Month:
    instalment: Instalment
    state: str  # French, for the member


@dataclass(frozen=True)
class NextDebit:
    day: datetime.date
    amount: Decimal


def month_state(instalment: Instalment, *, today: datetime.date, has_mandate: bool) -> str:
    debit = instalment.debit
    if debit is not None:
        return {
            DebitStatus.PENDING: "prélèvement en préparation",
            DebitStatus.SENT: f"prélevée le {date_format(debit.batch.collection_date, 'j F Y')}",
            DebitStatus.REJECTED: "prélèvement rejeté",
            DebitStatus.RETURNED: "prélèvement retourné",
            DebitStatus.REFUNDED: "prélèvement remboursé à votre demande",
        }[debit.status]
    if instalment.amount == 0:
        return "rien à payer"
    if instalment.due_date > today:
        return "à venir" if has_mandate else "à régler à l'échéance"
    return "à prélever" if has_mandate else "à régler"


def schedule(member: Member, *, year: int, today: datetime.date) -> list[Month]:
    has_mandate = Mandate.objects.filter(member=member).current().exists()
    months = (
        Instalment.objects.filter(member=member, month__year=year)
        .select_related("contract", "debit__batch")
        .order_by("month", "contract__number")
    )
    return [Month(m, month_state(m, today=today, has_mandate=has_mandate)) for m in months]


def next_debit(
    member: Member, *, today: datetime.date, mandate: Mandate | bool | None = False
) -> NextDebit | None:
    """The next announced debit: the latest notice of the first date to come with an amount.
    ``mandate``: the member's current mandate when the caller has read it already."""
    if mandate is False:
        mandate = Mandate.objects.filter(member=member).current().first()
    if mandate is None:
        return None
    notices = PreNotification.objects.filter(mandate=mandate, collection_date__gte=today)
    latest: dict[datetime.date, tuple] = {}
    for day, amount, made in notices.values_list("collection_date", "amount", "created_at"):
        if day not in latest or made > latest[day][1]:
            latest[day] = (amount, made)
    for day in sorted(latest):
        if latest[day][0] > 0:
            return NextDebit(day, latest[day][0])
    return None


def history(member: Member, *, limit: int = 60):
    """Payments, rejections, refunds and fees, most recent first (premiums are the schedule)."""
    return (
        LedgerEntry.objects.filter(member=member)
        .exclude(kind=LedgerKind.PREMIUM)
        .order_by("-booked_on", "-created_at")[:limit]
    )


def open_case(member: Member) -> DunningCase | None:
    return (
        DunningCase.objects.filter(contract__member=member, stage__in=dunning.OPEN)
        .select_related("contract")
        .first()
    )


def letters_of(member: Member):
    return (
        DunningLetter.objects.filter(case__contract__member=member)
        .select_related("case__contract")
        .order_by("-created_at")
    )


def notices_of(member: Member, *, today: datetime.date, limit: int = 24):
    """The notices of the dates to come, each with ``superseded``: a later notice was made for
    its mandate and date."""
    return (
        PreNotification.objects.filter(member=member, collection_date__gte=today)
        .annotate(superseded=superseded_notice())
        .order_by("collection_date", "-created_at")[:limit]
    )


def paid_in(member: Member, year: int) -> Decimal:
    """What the member paid in ``year``: money received less what was rejected or refunded."""
    entries = LedgerEntry.objects.filter(
        member=member, booked_on__year=year, kind__in=(*RECEIVED, *TAKEN_BACK)
    ).values_list("amount", flat=True)
    return ledger.cents(-sum(entries, ZERO))


def certificate_years(member: Member, *, today: datetime.date) -> list[int]:
    """The years a certificate can be issued for: those with a payment, the current one last."""
    years = set(
        LedgerEntry.objects.filter(member=member, kind__in=RECEIVED).values_list(
            "booked_on__year", flat=True
        )
    )
    return sorted(year for year in years if year <= today.year)


def certificate_pdf(member: Member, *, year: int, actor) -> bytes:
    """The payment certificate (attestation de paiement des cotisations) of ``year``; audited."""
    organisation = settings.MUTUALIS_ORGANISATION
    person = member.person
    payments = list(
        LedgerEntry.objects.filter(
            member=member, booked_on__year=year, kind__in=(*RECEIVED, *TAKEN_BACK)
        ).order_by("booked_on", "created_at")
    )
    total = paid_in(member, year)
    premiums = Instalment.objects.filter(member=member, month__year=year)
    contracts = sorted({f"n° {i.contract.number}" for i in premiums.select_related("contract")})
    today = timezone.localdate()
    covered = f" (contrat {', '.join(contracts)})" if contracts else ""
    body = (
        f"{organisation['name']}, organisme régi par le Code de la mutualité, SIREN "
        f"{organisation['siren']}, atteste que {person.get_civility_display()} "
        f"{person.first_names} {person.last_name}, adhérent n° {member.number}, a réglé au "
        f"titre de l'année {year} des cotisations de complémentaire santé{covered} pour un "
        f"montant total de {_money(total)}."
        "\n\nLe détail des paiements reçus, déduction faite des prélèvements rejetés ou "
        "remboursés, figure ci-dessous."
        + ("" if year < today.year else f" Attestation arrêtée au {date_format(today, 'j F Y')}.")
        + "\n\nAttestation délivrée pour servir et valoir ce que de droit."
    )
    letter = pdf.Letter(
        sender=f"{organisation['name']}\nService cotisations\n{organisation['address']}",
        address=[
            f"{person.get_civility_display()} {person.first_names} {person.last_name}",
            *person.postal_address.split("\n"),
        ],
        date_line=f"Le {date_format(today, 'j F Y')}",
        subject=f"Attestation de paiement des cotisations {year}",
        body=body,
        footer=" — ".join(
            [organisation["name"], f"SIREN {organisation['siren']}", organisation["address"]]
        ),
        table=[
            (f"{date_format(e.booked_on, 'j F Y')} — {e.label}", _money(-e.amount))
            for e in payments
        ]
        + [("Total réglé", _money(total))],
    )
    with transaction.atomic():
        audit.record(
            BillingTag.CERTIFICATE_ISSUE,
            actor=actor,
            subject=person.pk,
            target=member,
            details={"year": year, "payments": len(payments)},
        )
    return pdf.render([letter], title=f"Attestation {year}", author=organisation["name"])


def _money(amount: Decimal) -> str:
    return f"{number_format(amount, 2, force_grouping=True)} €"
