"""The records of an outbound affiliation file, rendered from its lines and the people's current
data (docs/scheme_exchange.md). Rendering writes nothing: the caller decides what becomes of the
lines it leaves out (people restricted or erased since their line was chosen).

Queries per batch of lines, whatever the number of people and children in it: the people with
their data keys, the restrictions, their contracts (as member, as beneficiary, each with its
unpaid-premium files, which a suspension reads) and the people attached to each NIR holder (twins
are told apart by their rank).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from mutualis.contracts.cover import CoverStatus
from mutualis.contracts.models import Contract
from mutualis.members.models import Person
from mutualis.privacy import catalogue, restrictions
from mutualis.recipients.exchange import format as fmt
from mutualis.recipients.models import NoticeCause
from mutualis.recipients.models_exchange import ExchangeFile, ExchangeLine, LineKind
from mutualis.recipients.ranking import best_cover
from mutualis.vault.erased import is_erased
from mutualis.vault.exceptions import VaultError

BATCH = 500
STATUS_CODES = {
    CoverStatus.COVERED: "C",
    CoverStatus.SUSPENDED: "S",
    CoverStatus.TERMINATED: "R",
    CoverStatus.NOT_COVERED: "N",
}
QUALITY = {"": "A", "spouse": "C", "partner": "P", "child": "E"}
NATURE = {NoticeCause.RECTIFICATION: "R", NoticeCause.ERASURE: "E"}


def readable_nir(person: Person) -> str:
    try:
        nir = (
            person.nir
            if person.nir is not None
            else (person.nir_holder.nir if person.nir_holder_id else None)
        )
    except VaultError:
        return ""
    return "" if nir is None or is_erased(nir) else str(nir)


def _contracts_of(people: list[Person]) -> dict:
    """Each person's contracts (as member or beneficiary) with their role, and each contract's
    unpaid-premium files (a suspension reads them): four queries per batch, whatever its size."""
    found = defaultdict(list)
    ids = [p.pk for p in people]
    owned = (
        Contract.objects.filter(member__person__in=ids)
        .select_related("member")
        .prefetch_related("dunning_cases")
    )
    for contract in owned:
        found[contract.member.person_id].append((contract, ""))
    through = (
        Contract.beneficiaries.through.objects.filter(beneficiary__person__in=ids)
        .select_related("contract", "beneficiary")
        .prefetch_related("contract__dunning_cases")
    )
    for row in through:
        found[row.beneficiary.person_id].append((row.contract, row.beneficiary.role))
    return found


def _attached(people: list[Person]) -> dict:
    """The people attached to each NIR holder of the batch (one query): twins are told apart by
    their rank among those born the same day."""
    holders = {p.nir_holder_id for p in people if p.nir_holder_id}
    found = defaultdict(list)
    if holders:
        rows = Person.objects.filter(nir_holder__in=holders).select_related("data_key")
        for person in rows:
            found[person.nir_holder_id].append(person)
    return found


def _birth_date(person: Person):
    try:
        return person.birth_date
    except VaultError:
        return None


def _affiliation(
    line: ExchangeLine, person: Person, contracts: list, as_of, attached: list[Person]
) -> str:
    status, contract, role = best_cover(contracts, on=as_of)
    if person.nir is not None:
        nir, regime, caisse, centre = (
            person.nir,
            person.scheme_regime,
            person.scheme_caisse,
            person.scheme_centre,
        )
        rank = 1
    else:
        holder = person.nir_holder
        nir = holder.nir
        regime = person.scheme_regime or holder.scheme_regime
        caisse = person.scheme_caisse or holder.scheme_caisse
        centre = person.scheme_centre or holder.scheme_centre
        twins = sorted(p.pk for p in attached if _birth_date(p) == person.birth_date)
        rank = twins.index(person.pk) + 1 if person.pk in twins else 1
    return fmt.render(
        fmt.OUTBOUND_FORMAT,
        fmt.AFFILIATION,
        line=line.number,
        nir=nir,
        birth_date=person.birth_date,
        rank=rank,
        regime=regime,
        caisse=caisse,
        centre=centre or "",
        contract=contract.number if contract else "",
        start=contract.start_date if contract else None,
        end=contract.end_date if contract else None,
        status=STATUS_CODES[status],
        quality=QUALITY.get(role or "", "A"),
    )


def _notice_record(line: ExchangeLine, reference: str) -> str:
    notice = line.notice
    return fmt.render(
        fmt.OUTBOUND_FORMAT,
        fmt.NOTICE,
        line=line.number,
        nature=NATURE[notice.cause],
        reference=reference,
        date=timezone.localdate(notice.created_at),
    )


@dataclass
class Rendered:
    """A file's bytes, the affiliation lines it holds and those it leaves out (people restricted
    or erased since their line was chosen)."""

    data: bytes
    affiliations: list[ExchangeLine]
    dropped: list[ExchangeLine]
    restricted: int = 0
    unreadable: int = 0


def _allowed(people: dict) -> set:
    """The ids of ``people`` (by id) whose processing for the contract is not restricted."""
    qs = Person.objects.filter(pk__in=list(people))
    return set(
        restrictions.exclude_restricted(qs, purpose=catalogue.CONTRACT).values_list("pk", flat=True)
    )


def render_file(exchange: ExchangeFile) -> Rendered:
    """The whole file, from the exchange's lines and the people's current data; writes
    nothing."""
    organisation = exchange.organisation
    parts = [
        fmt.render(
            fmt.OUTBOUND_FORMAT,
            fmt.HEADER,
            format=fmt.OUTBOUND_FORMAT,
            version=fmt.VERSION,
            sender=settings.MUTUALIS_AMC_NUMBER,
            receiver=organisation.identifier,
            sequence=exchange.sequence,
            created_at=timezone.localtime(exchange.created_at).replace(tzinfo=None),
            as_of=exchange.as_of,
        )
    ]
    lines = list(exchange.lines.select_related("notice").order_by("number"))
    chosen = [line for line in lines if line.kind == LineKind.AFFILIATION]
    rendered = Rendered(data=b"", affiliations=[], dropped=[])
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        people = Person.objects.select_related("data_key", "nir_holder__data_key").in_bulk(
            [line.subject_id for line in batch]
        )
        allowed = _allowed(people)
        contracts = _contracts_of(list(people.values()))
        attached = _attached(list(people.values()))
        for line in batch:
            person = people.get(_uuid(line.subject_id))
            if person is not None and person.pk not in allowed:
                rendered.restricted += 1  # restricted since the line was chosen
                rendered.dropped.append(line)
                continue
            if person is None or not readable_nir(person):
                rendered.unreadable += 1  # erased since: the line goes (numbers may have gaps)
                rendered.dropped.append(line)
                continue
            parts.append(
                _affiliation(
                    line,
                    person,
                    contracts[person.pk],
                    exchange.as_of,
                    attached[person.nir_holder_id] if person.nir_holder_id else [],
                )
            )
            rendered.affiliations.append(line)
    notice_lines = [line for line in lines if line.kind == LineKind.NOTICE]
    references_used: dict = defaultdict(int)
    for line in notice_lines:
        index = references_used[line.notice_id]
        references_used[line.notice_id] += 1
        parts.append(_notice_record(line, line.notice.references[index]))
    body = "".join(parts).encode(fmt.ENCODING)
    end = fmt.trailer(
        fmt.OUTBOUND_FORMAT,
        body,
        records=len(parts) + 1,
        affiliations=len(rendered.affiliations),
        notices=len(notice_lines),
    )
    rendered.data = body + end.encode(fmt.ENCODING)
    return rendered


def _uuid(text: str):
    return Person._meta.pk.to_python(text)
