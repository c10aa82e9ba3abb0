"""Reading the disclosure register: which organisation received what, for the DPO and the member.

The register itself is ``audit.Disclosure`` (recipient of the declaration, person, categories,
reason, date). Which organisation a disclosure went to is told by the record of its flow: the
rights check, the exchange line or the requisition that made it. A disclosure to an authority
whose requisition forbids telling the person is *withheld* from the person (GDPR art. 23, and
the law the requisition cites) while the secrecy holds; the DPO always sees it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from mutualis.audit.models import Disclosure
from mutualis.privacy import catalogue
from mutualis.recipients.models import Organisation, RightsCheck
from mutualis.recipients.models_exchange import ExchangeLine
from mutualis.recipients.models_requisitions import Requisition, RequisitionSubject

RECIPIENT_LABELS = {r.code: r.label for r in catalogue.ALL_RECIPIENTS}
CATEGORY_LABELS = {c.code: c.label for c in catalogue.ALL_CATEGORIES}


def withheld_disclosure_ids() -> QuerySet:
    """Ids of the disclosures the person may not be told of yet (a subquery)."""
    return RequisitionSubject.objects.filter(
        requisition__in=Requisition.objects.secret(), disclosure__isnull=False
    ).values("disclosure_id")


def visible_to_the_person(qs: QuerySet) -> QuerySet:
    return qs.exclude(pk__in=withheld_disclosure_ids())


def organisations_of(disclosure_ids) -> dict[int, Organisation]:
    """The organisation each disclosure went to (three small queries, whatever the number)."""
    ids = list(disclosure_ids)
    found: dict[int, int] = {}
    for model, path in (
        (RightsCheck, "organisation_id"),
        (ExchangeLine, "exchange__organisation_id"),
        (RequisitionSubject, "requisition__organisation_id"),
    ):
        found.update(model.objects.filter(disclosure_id__in=ids).values_list("disclosure_id", path))
    organisations = Organisation.objects.in_bulk(set(found.values()))
    return {pk: organisations[org] for pk, org in found.items() if org in organisations}


def disclosures_to(organisation: Organisation) -> QuerySet:
    return Disclosure.objects.filter(
        Q(rights_check__organisation=organisation)
        | Q(exchange_line__exchange__organisation=organisation)
        | Q(requisition_subject__requisition__organisation=organisation)
    )


@dataclass(frozen=True)
class Row:
    """One disclosure as the register pages and the CSV show it."""

    pk: int
    at: datetime.datetime
    recipient: str
    organisation: str
    subject_id: str
    categories: list[str]
    reason: str
    withheld: bool


def rows(disclosures: QuerySet, *, withheld: set[int] | None = None) -> list[Row]:
    disclosures = list(disclosures)
    organisations = organisations_of(d.pk for d in disclosures)
    withheld = withheld if withheld is not None else set()
    return [
        Row(
            pk=d.pk,
            at=d.at,
            recipient=RECIPIENT_LABELS.get(d.recipient, d.recipient),
            organisation=organisations[d.pk].identity if d.pk in organisations else "",
            subject_id=d.subject_id,
            categories=[CATEGORY_LABELS.get(code, code) for code in d.categories or []],
            reason=d.reason,
            withheld=d.pk in withheld,
        )
        for d in disclosures
    ]


def for_person(person) -> list[Row]:
    """What the person may see of the disclosures of their data (GDPR art. 15(1)(c))."""
    qs = visible_to_the_person(Disclosure.objects.filter(subject_id=str(person.pk)))
    return rows(qs.order_by("-at", "-pk"))


def search(
    *,
    recipient: str = "",
    organisation: Organisation | None = None,
    subject_id: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet:
    """The register filtered as the DPO asks (recipient, organisation, person, period)."""
    qs = Disclosure.objects.all()
    if recipient:
        qs = qs.filter(recipient=recipient)
    if organisation is not None:
        qs = qs.filter(pk__in=disclosures_to(organisation).values("pk"))
    if subject_id:
        qs = qs.filter(subject_id=subject_id)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs.order_by("-at", "-pk")


def withheld_ids(disclosure_ids) -> set[int]:
    return set(
        RequisitionSubject.objects.filter(
            requisition__in=Requisition.objects.secret(), disclosure_id__in=list(disclosure_ids)
        ).values_list("disclosure_id", flat=True)
    )
