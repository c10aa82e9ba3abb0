"""The rights check of third-party payment (tiers payant): what a health professional may learn.

Given a patient's NIR (or member number), birth date and the date of care, the answer is the
patient's cover on that day — covered, not covered, suspended, terminated — with the offer's
guarantee levels when covered and the mutuelle's organisation number: the minimum a pharmacy or
a hospital needs to waive the advance of costs, from exactly the categories the declaration
grants the health professionals (identity: the patient is recognised; contract: the cover).
No name, address, contract number or NIR is ever sent back.

Every answer is recorded (:class:`~mutualis.recipients.models.RightsCheck`); an answer that
tells something about a person is a disclosure, written in the same transaction.

What the law allows when the answer cannot be given (docs/partners_api.md, "Answers"):

- no person matches the NIR or member number *and* the birth date: "unknown", the same answer
  whether the number exists or not, so the API never confirms that someone is a member;
- the person's processing is restricted (GDPR art. 18): their data may only be stored, so
  nothing is disclosed; the organisation gets the very answer of an unknown patient (a different
  one would itself disclose that they are a member), and the refusal is audited;
- the person's data key is shredded (erased): the birth date cannot be read, nothing can be
  confirmed, the answer is again that of an unknown patient.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.billing.models import DunningCase
from mutualis.contracts.cover import CoverStatus
from mutualis.contracts.models import Contract, Guarantee
from mutualis.lib.prepared import PreparedInsert, PreparedQuery, set_prefetched
from mutualis.members.models import Person, nir_blind_index
from mutualis.privacy import catalogue, restrictions
from mutualis.recipients.models import (
    DISCLOSING_OUTCOMES,
    CheckOutcome,
    Credential,
    RightsCheck,
)
from mutualis.recipients.ranking import best_cover
from mutualis.recipients.tags import RecipientsTag
from mutualis.vault.erased import is_erased
from mutualis.vault.exceptions import VaultError

# What an answer about a person discloses: the declaration's grant to health professionals.
RECIPIENT = catalogue.HEALTH_PROFESSIONALS
CATEGORIES = tuple(sorted(RECIPIENT.categories, key=lambda c: c.code))
USE = RecipientsTag.CHECK_ANSWER  # the use the art. 18 guard is asked about

# Care may be checked ahead (a scheduled stay) or afterwards (an invoice): within these bounds.
CARE_PAST = datetime.timedelta(days=2 * 365)  # invoices are time-barred after two years
CARE_FUTURE = datetime.timedelta(days=180)


class CheckInputError(ValueError):
    """A request the check cannot answer as asked (French message, field named)."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(message)


@dataclass(frozen=True)
class CheckRequest:
    birth_date: datetime.date
    care_date: datetime.date
    nir: str = ""
    member_number: str = ""


@dataclass
class CheckAnswer:
    check: RightsCheck
    guarantees: list[Guarantee] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.check.outcome

    @property
    def found(self) -> bool:
        return self.check.outcome in DISCLOSING_OUTCOMES


def validate_dates(request: CheckRequest, *, today: datetime.date) -> None:
    if request.birth_date > today or request.birth_date.year < 1890:
        raise CheckInputError("birth_date", "La date de naissance est impossible.")
    if request.care_date < today - CARE_PAST:
        raise CheckInputError(
            "care_date",
            "La date des soins remonte à plus de deux ans : les droits ne se vérifient plus.",
        )
    if request.care_date > today + CARE_FUTURE:
        raise CheckInputError(
            "care_date", "La date des soins est trop lointaine (six mois au plus)."
        )
    if request.care_date < request.birth_date:
        raise CheckInputError("care_date", "La date des soins précède la date de naissance.")


def _find(request: CheckRequest) -> tuple[list[Person], list[Person]]:
    """(the people the number designates who were born on the birth date asked, those of them
    whose birth date can no longer be read).

    The number names one person: a NIR's holder, a member. They are recognised when the birth
    date is theirs; otherwise the people it covers are looked among (the children attached to
    the NIR, the beneficiaries of the member's contracts), so that most checks read one person.
    """
    people = Person.objects.select_related("data_key")
    if request.nir:
        named = _PEOPLE_BY_NIR_INDEX(nir_blind_index(request.nir))
    else:
        number = request.member_number.strip().upper()
        named = _PEOPLE_BY_MEMBER_NUMBER(number)
    matched, unreadable = _match(named, request.birth_date)
    if matched or not named:
        return matched, unreadable
    if request.nir:
        covered = people.filter(nir_holder__in=named)
    else:
        covered = people.filter(beneficiary__member__number=number)
    others, others_unreadable = _match(list(covered.order_by("pk")), request.birth_date)
    return others, unreadable + others_unreadable


# The queries every check runs, compiled once (mutualis.lib.prepared: compiling them cost more
# than running them). The rarer ones (the people a number covers) go through the ORM.
_PEOPLE_BY_NIR_INDEX = PreparedQuery(
    lambda index: Person.objects.select_related("data_key").filter(nir_index=index)
)
_PEOPLE_BY_MEMBER_NUMBER = PreparedQuery(
    lambda number: Person.objects.select_related("data_key").filter(member__number=number)
)
_CONTRACTS_OF = PreparedQuery(
    lambda person_id: Contract.objects.of_person(person_id).select_related("offer")
)
_DUNNING_CASES_OF = PreparedQuery(
    lambda *contract_ids: DunningCase.objects.filter(contract_id__in=contract_ids)
)
_INSERT_CHECK = PreparedInsert(RightsCheck)
_GUARANTEES_OF = PreparedQuery(
    lambda offer_id: Guarantee.objects.filter(offer_id=offer_id).order_by("domain")
)


def _match(candidates: list[Person], birth_date: datetime.date) -> tuple[list[Person], list]:
    """(people born that day, people whose birth date can no longer be read)."""
    matched, unreadable = [], []
    for person in candidates:
        try:
            born = person.birth_date
        except VaultError:
            born = None
        if born is None or is_erased(born):
            unreadable.append(person)
        elif born == birth_date:
            matched.append(person)
    return matched, unreadable


def cover_of(person: Person, *, on: datetime.date) -> tuple[CoverStatus, Contract | None]:
    """The person's cover on ``on`` among their contracts (as member or beneficiary), ranked as
    the scheme exchange ranks it (:mod:`mutualis.recipients.ranking`). Two queries whatever the
    number of contracts: the contracts with their offer, and their unpaid-premium files, which
    the cover status may read (a suspension)."""
    status, contract, _ = best_cover(((c, None) for c in contracts_of(person)), on=on)
    return status, contract


def contracts_query(person: Person):
    """The query :func:`contracts_of` runs (without the unpaid-premium files): its plan."""
    return _CONTRACTS_OF.queryset(person.pk)


def contracts_of(person: Person) -> list[Contract]:
    """The person's contracts, as member or as beneficiary, with their offer and unpaid-premium
    files (found from indexes: ``ContractQuerySet.of_person``)."""
    contracts = _CONTRACTS_OF(person.pk)
    if contracts:
        cases = _DUNNING_CASES_OF(*(contract.pk for contract in contracts))
        set_prefetched(contracts, "dunning_cases", cases, key=lambda case: case.contract_id)
    return contracts


def reason_for(credential: Credential, care_date: datetime.date) -> str:
    return (
        f"Vérification des droits au tiers payant par {credential.organisation.identity} pour "
        f"des soins du {care_date:%d/%m/%Y} (exécution du contrat, RGPD art. 6(1)(b))"
    )


def check_rights(*, request: CheckRequest, credential: Credential) -> CheckAnswer:
    """Answer a rights check and record it; an answer about a person is a disclosure, written
    in the same transaction (GDPR art. 30(1)(d)). See the module for the cases
    where nothing may be disclosed."""
    organisation = credential.organisation
    validate_dates(request, today=timezone.localdate())
    matched, unreadable = _find(request)

    def record(outcome: str, person: Person | None = None, **extra) -> RightsCheck:
        return _INSERT_CHECK(
            RightsCheck(
                organisation=organisation,
                credential=credential,
                subject_id=str(person.pk) if person else "",
                care_date=request.care_date,
                outcome=outcome,
                **extra,
            )
        )

    if len(matched) != 1:
        # None, or twins sharing a parent's NIR and a birth date: nothing can be told apart.
        with transaction.atomic():
            if not matched and unreadable:
                check = record(CheckOutcome.ERASED, unreadable[0])
                audit.record(
                    RecipientsTag.CHECK_WITHHELD,
                    actor=organisation,
                    subject=unreadable[0],
                    target=check,
                    details={"outcome": CheckOutcome.ERASED},
                )
            else:
                check = record(CheckOutcome.UNKNOWN)
        return CheckAnswer(check)
    person = matched[0]
    try:
        clearance = audit.clear_disclosure(recipient=RECIPIENT, subject=person, use=USE)
    except restrictions.ProcessingRestricted:
        with transaction.atomic():
            check = record(CheckOutcome.RESTRICTED, person)
            audit.record(
                RecipientsTag.CHECK_WITHHELD,
                actor=organisation,
                subject=person,
                target=check,
                details={"outcome": CheckOutcome.RESTRICTED},
            )
        return CheckAnswer(check)
    status, contract = cover_of(person, on=request.care_date)
    guarantees = []
    if status == CoverStatus.COVERED and contract is not None:
        guarantees = _GUARANTEES_OF(contract.offer_id)
    with transaction.atomic():
        disclosure = audit.record_disclosure(
            recipient=RECIPIENT,
            subject=person,
            categories=CATEGORIES,
            reason=reason_for(credential, request.care_date),
            actor=organisation,
            use=USE,
            clearance=clearance,
        )
        check = record(CheckOutcome(status.value), person, at=disclosure.at, disclosure=disclosure)
    return CheckAnswer(check, guarantees)


def organisation_number() -> str:
    """The mutuelle's number as a complementary insurer, given with every answer."""
    return settings.MUTUALIS_AMC_NUMBER
