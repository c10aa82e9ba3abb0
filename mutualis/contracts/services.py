"""Subscription (adhésion): one transaction creates person, member, beneficiaries, contract and
SEPA mandate, and the member-space account whose password the member sets from an e-mail link."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from mutualis import audit
from mutualis.billing import services as billing
from mutualis.consent import services as consent
from mutualis.consent.models import ConsentNotice, Source
from mutualis.contracts import terms
from mutualis.contracts.application import Application, ApplicationInvalid, check_application
from mutualis.contracts.models import (
    AcceptanceChannel,
    CguVersion,
    Contract,
    Offer,
    new_contract_number,
)
from mutualis.contracts.tags import ContractsTag
from mutualis.members import services as members
from mutualis.members.models import Member, User, UserKind
from mutualis.members.tags import MembersTag
from mutualis.privacy.models import PolicyVersion


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
