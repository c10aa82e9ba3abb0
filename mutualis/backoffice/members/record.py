"""A member's record as one staff member may see it: only their service's categories.

The categories come from the declaration (``privacy.catalogue.ALL_SERVICES`` through
``members.roles.visible_categories``), so what a page shows and what the privacy policy promises
cannot drift apart. NIR and IBAN are only ever masked here; revealing one is a separate,
audited act (``views.reveal``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from mutualis.billing.models import Mandate
from mutualis.contracts.cover import cover_status
from mutualis.contracts.models import Contract
from mutualis.contracts.services import ended_on
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.members.roles import Permission, visible_categories
from mutualis.members.validators import format_phone
from mutualis.privacy import catalogue
from mutualis.privacy.declaration import Category
from mutualis.vault.erased import is_erased


def display_date(value: object, *, missing: str = "non renseignée") -> str:
    if value is None:
        return missing
    if is_erased(value):
        return str(value)
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def ordered(categories: frozenset[Category]) -> list[Category]:
    """Categories in the declaration's order (the policy's order)."""
    return [category for category in catalogue.ALL_CATEGORIES if category in categories]


@dataclass(frozen=True)
class PersonEntry:
    person: Person
    relation: str
    is_holder: bool

    @property
    def birth_date(self) -> str:
        return display_date(self.person.birth_date)

    @property
    def has_own_nir(self) -> bool:
        """Whether there is a NIR to reveal (a child may use a parent's; shredded data is gone)."""
        return self.person.nir is not None and not is_erased(self.person.nir)

    @property
    def phones(self) -> list[tuple[str, str]]:
        numbers = [
            ("Téléphone mobile", self.person.phone_mobile),
            ("Téléphone fixe", self.person.phone_landline),
        ]
        return [(label, format_phone(number)) for label, number in numbers if number]


@dataclass(frozen=True)
class ContractEntry:
    contract: Contract
    covered: list[Person]
    monthly_premium: Decimal | None
    # The cover today, as every face reads it (contracts.cover): a suspension shows.
    status: str = ""
    beneficiaries: list[Beneficiary] = field(default_factory=list)
    # Whether who it covers may still change (a contract that has ended no longer changes).
    open_to_changes: bool = False


@dataclass(frozen=True)
class MandateEntry:
    mandate: Mandate

    @property
    def can_be_revealed(self) -> bool:
        return not is_erased(self.mandate.iban)


@dataclass
class MemberRecord:
    member: Member
    categories: frozenset[Category]
    shows: dict[str, bool]
    people: list[PersonEntry] = field(default_factory=list)
    contracts: list[ContractEntry] = field(default_factory=list)
    mandates: list[MandateEntry] = field(default_factory=list)
    account: User | None = None
    can_reveal_nir: bool = False
    can_reveal_iban: bool = False
    # Add or remove a contract's beneficiaries (gestion), and open the member's premium account.
    can_manage_contracts: bool = False
    can_view_billing: bool = False

    @property
    def holder(self) -> PersonEntry:
        return self.people[0]

    @property
    def shown_categories(self) -> list[Category]:
        return ordered(self.categories)


def build_record(member: Member, *, user: User) -> MemberRecord:
    """What ``user`` may see of ``member``: sections outside their categories are neither queried
    nor decrypted."""
    categories = visible_categories(user.role)
    # Rows in the intermediate archive are restricted: only the DPO sees them (architecture.md §6).
    archive_visible = user.has_perm(Permission.RETENTION_VIEW)
    shows = {category.code: category in categories for category in catalogue.ALL_CATEGORIES}
    record = MemberRecord(member=member, categories=categories, shows=shows)
    record.people = [PersonEntry(member.person, "Adhérent (titulaire)", is_holder=True)]
    for beneficiary in member.beneficiaries.select_related("person", "person__nir_holder"):
        record.people.append(
            PersonEntry(beneficiary.person, beneficiary.get_role_display(), is_holder=False)
        )
    if shows[catalogue.CONTRACT_DATA.code]:
        with_premium = shows[catalogue.PAYMENT_TERMS.code]
        contracts = member.contracts.select_related("offer").prefetch_related(
            "beneficiaries__person"
        )
        if not archive_visible:
            contracts = contracts.filter(archived_at__isnull=True)
        today = timezone.localdate()
        for contract in contracts:
            covered = list(contract.beneficiaries.all())
            record.contracts.append(
                ContractEntry(
                    contract=contract,
                    covered=[b.person for b in covered],
                    monthly_premium=contract.monthly_premium() if with_premium else None,
                    status=cover_status(contract, on=today).label,
                    beneficiaries=covered,
                    open_to_changes=contract.archived_at is None
                    and ended_on(contract, today) is None,
                )
            )
    if shows[catalogue.BANK.code]:
        mandates = member.mandates.all()
        if not archive_visible:
            mandates = mandates.filter(archived_at__isnull=True)
        record.mandates = [MandateEntry(mandate) for mandate in mandates]
    if shows[catalogue.ACCOUNT.code]:
        record.account = member.account
    record.can_reveal_nir = shows[catalogue.ADMINISTRATIVE.code] and user.has_perm(
        Permission.NIR_REVEAL
    )
    record.can_reveal_iban = shows[catalogue.BANK.code] and user.has_perm(Permission.IBAN_REVEAL)
    record.can_manage_contracts = may_manage_contracts(user)
    record.can_view_billing = user.has_perm(Permission.BILLING_VIEW)
    return record


# What a form adding a beneficiary shows and asks: who they are, their NIR, the contract.
MANAGE_CATEGORIES = frozenset(
    {catalogue.IDENTITY, catalogue.ADMINISTRATIVE, catalogue.CONTRACT_DATA}
)


def may_manage_contracts(user: User) -> bool:
    """The permission, and the categories its forms touch: both checked, so neither can drift
    alone."""
    if not user.has_perm(Permission.CONTRACT_MANAGE):
        return False
    return MANAGE_CATEGORIES.issubset(visible_categories(user.role))
