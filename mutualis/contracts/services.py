"""Subscription (adhésion): one transaction creates person, member, beneficiaries, contract and
SEPA mandate, and the member-space account whose password the member sets from an e-mail link.

Later, staff change who a running contract covers: :func:`cover_new_beneficiary` and
:func:`uncover_beneficiary`, each one transaction with the premium schedule recomputed
(``billing.schedule``)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.billing import schedule
from mutualis.billing import services as billing
from mutualis.consent import services as consent
from mutualis.consent.models import ConsentNotice, Source
from mutualis.contracts import terms
from mutualis.contracts.application import (
    NIR_REGISTERED_STAFF,
    Application,
    ApplicationInvalid,
    BeneficiaryApplication,
    Problem,
    check_added_beneficiary,
    check_application,
)
from mutualis.contracts.models import (
    AcceptanceChannel,
    CguVersion,
    Contract,
    Offer,
    new_contract_number,
)
from mutualis.contracts.tags import ContractsTag
from mutualis.members import services as members
from mutualis.members.models import Beneficiary, Member, Person, User, UserKind
from mutualis.members.services import NirAlreadyRegistered, PersonData
from mutualis.members.tags import MembersTag
from mutualis.privacy.models import PolicyVersion
from mutualis.vault.erased import is_erased

logger = logging.getLogger(__name__)


def subscribe(
    *,
    application: Application,
    actor=None,
    imported: bool = False,
    activation_link: Callable[[User], str] | None = None,
) -> Contract:
    """Validate and create everything a subscription makes, all or nothing.

    Nothing is written to the member tables before this call (the online form keeps its progress
    in an encrypted draft). With ``activation_link`` (the face's builder of the link where the
    member chooses a password), the activation e-mail leaves once the transaction has committed;
    without it, the member creates their access later (password reset).
    """
    problems = check_application(application, imported=imported)
    if problems:
        raise ApplicationInvalid(problems)
    with transaction.atomic():
        person = members.create_person(data=application.member, actor=actor)
        member = members.create_member(person=person, actor=actor)
        if application.legacy_reference:
            member.legacy_reference = application.legacy_reference
            member.save(update_fields=["legacy_reference"])
        beneficiaries = []
        for item in application.beneficiaries:
            child = members.create_person(
                data=item.person,
                actor=actor,
                nir_holder=person if item.attached_to_member_nir else None,
            )
            beneficiaries.append(
                members.add_beneficiary(member=member, person=child, role=item.role, actor=actor)
            )
        policy_version = (
            PolicyVersion.objects.get(pk=application.policy_version_id)
            if application.policy_version_id
            else PolicyVersion.objects.published().first()
        )
        contract = Contract.objects.create(
            number=_unique_contract_number(),
            member=member,
            offer=Offer.objects.get(code=application.offer_code),
            start_date=application.start_date,
            cgu_version=application.cgu_version,
            policy_version=policy_version,
        )
        contract.beneficiaries.set(beneficiaries)
        _record_communication_choices(application, person, actor)
        billing.create_mandate(
            member=member,
            iban=application.payment.iban,
            bic=application.payment.bic,
            debtor_name=application.payment.debtor_name,
            signed_place=application.payment.signed_place,
            signed_at=application.payment.signed_at if imported else None,
            actor=actor,
        )
        audit.record(
            ContractsTag.CONTRACT_CREATE,
            actor=actor,
            subject=person,
            target=contract,
            details={
                "offer": application.offer_code,
                "beneficiaries": len(beneficiaries),
                "cgu_version": application.cgu_version,
                "policy_version": policy_version.slug if policy_version else "",
                "imported": imported,
            },
        )
        if not imported:
            terms.accept_cgu(
                member=member,
                version=CguVersion.objects.get(effective_date=application.cgu_version),
                channel=AcceptanceChannel.SUBSCRIPTION,
                actor=actor,
            )
            account = open_account(member=member, actor=actor)
            if activation_link is not None:
                link = activation_link
                transaction.on_commit(lambda: send_activation_email(account, link=link(account)))
    return contract


def _record_communication_choices(application: Application, person, actor) -> None:
    """The communications ticked in the form, each a consent under the notice shown (GDPR
    art. 7(1)); nothing is granted that was not ticked."""
    notices = ConsentNotice.objects.in_bulk(
        [c.notice_id for c in application.communication if c.notice_id]
    )
    for choice in application.communication:
        notice = notices.get(choice.notice_id)
        consent.grant(
            person=person,
            topic=choice.topic,
            channel=choice.channel,
            source=Source.SUBSCRIPTION,
            actor=actor,
            notice=notice if notice is not None and notice.topic == choice.topic else None,
        )


def _unique_contract_number() -> str:
    number = new_contract_number()
    while Contract.objects.filter(number=number).exists():
        number = new_contract_number()
    return number


def open_account(*, member: Member, actor=None) -> User:
    """A member-space account with no usable password until the member sets one."""
    with transaction.atomic():
        account = User.objects.create_user(
            email=member.person.email, password=None, kind=UserKind.MEMBER
        )
        member.account = account
        member.save(update_fields=["account"])
        audit.record(MembersTag.ACCOUNT_CREATE, actor=actor, subject=member.person, target=account)
    return account


def send_activation_email(account: User, *, link: str) -> None:
    """The e-mail with the single-use link where a new member chooses their password."""
    context = {
        "link": link,
        "organisation": settings.MUTUALIS_ORGANISATION,
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    send_mail(
        subject="Votre adhésion — créez votre mot de passe",
        message=render_to_string("contracts/email/activation.txt", context),
        from_email=None,
        recipient_list=[account.email],
    )


# --- Who a running contract covers ------------------------------------------------------------
SCHEDULE_NOT_RECOMPUTED = (
    "Les cotisations de ce contrat n'ont pas pu être recalculées : rien n'a été enregistré. "
    "Signalez-le au service cotisations."
)


class ContractChangeRefused(Exception):
    """A change of who a contract covers that cannot be made; the message says why, in French."""


@dataclass(frozen=True)
class CoverChange:
    beneficiary: Beneficiary
    recomputed: int  # instalments of the schedule whose amount changed


def ended_on(contract: Contract, today: datetime.date | None = None) -> datetime.date | None:
    """The day a contract ended, if it has: an ended contract's cover no longer changes."""
    today = today or timezone.localdate()
    if contract.end_date is not None and contract.end_date < today:
        return contract.end_date
    return None


def _refuse_if_ended(contract: Contract) -> None:
    day = ended_on(contract)
    if day is not None:
        raise ContractChangeRefused(
            f"Ce contrat a pris fin le {day:%d/%m/%Y} : les personnes qu'il couvre ne peuvent "
            "plus changer."
        )


def _identity_of(person: Person) -> PersonData:
    """What the beneficiary rules read of the member: their birth date (a child's age gap)."""
    birth = person.birth_date
    return PersonData(
        civility=person.civility,
        last_name=person.last_name,
        first_names=person.first_names,
        birth_date=None if birth is None or is_erased(birth) else birth,  # type: ignore[arg-type]
    )


def _locked(contract: Contract) -> Contract:
    """The contract, locked until the transaction ends: two staff members changing the same
    household one after the other see each other's change (one spouse at most)."""
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("member__person", "offer")
        .get(pk=contract.pk)
    )


def cover_new_beneficiary(
    *, contract: Contract, beneficiary: BeneficiaryApplication, actor=None
) -> CoverChange:
    """Cover a new person under a running contract, all or nothing: the person (attached to the
    member's NIR when the application says so), their beneficiary record, the contract's cover,
    and the months of the premium schedule not yet posted nor debited, recomputed.

    The same rules as at subscription (:func:`check_added_beneficiary`); a refusal raises
    :class:`ApplicationInvalid` (problems on ``beneficiary.<field>``, ``beneficiaries`` or
    ``contract``) and writes nothing.
    """
    with transaction.atomic():
        contract = _locked(contract)
        try:
            _refuse_if_ended(contract)
        except ContractChangeRefused as exc:
            raise ApplicationInvalid([Problem("contract", str(exc))]) from None
        holder = contract.member.person
        problems = check_added_beneficiary(
            beneficiary,
            member=_identity_of(holder),
            covered_roles=list(contract.beneficiaries.values_list("role", flat=True)),
        )
        if problems:
            raise ApplicationInvalid(problems)
        try:
            person = members.create_person(
                data=beneficiary.person,
                actor=actor,
                nir_holder=holder if beneficiary.attached_to_member_nir else None,
            )
        except NirAlreadyRegistered:  # registered since the check, by another transaction
            raise ApplicationInvalid([Problem("beneficiary.nir", NIR_REGISTERED_STAFF)]) from None
        added = members.add_beneficiary(
            member=contract.member, person=person, role=beneficiary.role, actor=actor
        )
        try:
            changed = schedule.add_beneficiary_to_contract(
                contract=contract, beneficiary=added, actor=actor
            )
        except ValueError as exc:  # the schedule's own refusal (a month it cannot price)
            _schedule_failed(contract, exc)
            raise ApplicationInvalid([Problem("contract", SCHEDULE_NOT_RECOMPUTED)]) from None
    return CoverChange(beneficiary=added, recomputed=changed)


def _schedule_failed(contract: Contract, exc: ValueError) -> None:
    # The contract by its number only (a UUID may look like an IBAN to the log's redaction);
    # the schedule's messages name no one.
    logger.error("premium schedule of contract %s not recomputed: %s", contract.number, exc)


def uncover_beneficiary(*, contract: Contract, beneficiary: Beneficiary, actor=None) -> int:
    """Stop covering one of the contract's beneficiaries; the months of the premium schedule not
    yet posted nor debited are recomputed (returns how many changed). The person stays the
    member's beneficiary, no longer covered by this contract."""
    with transaction.atomic():
        contract = _locked(contract)
        _refuse_if_ended(contract)
        if not contract.beneficiaries.filter(pk=beneficiary.pk).exists():
            raise ContractChangeRefused("Cette personne n'est pas couverte par ce contrat.")
        try:
            return schedule.remove_beneficiary_from_contract(
                contract=contract, beneficiary=beneficiary, actor=actor
            )
        except ValueError as exc:  # the schedule's own refusal (a month it cannot price)
            _schedule_failed(contract, exc)
            raise ContractChangeRefused(SCHEDULE_NOT_RECOMPUTED) from None
