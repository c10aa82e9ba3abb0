"""SEPA mandates: creation at subscription, replacement on a change of bank account."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.billing.models import Mandate, new_mandate_reference
from mutualis.billing.tags import BillingTag
from mutualis.members import validators
from mutualis.members.models import Member
from mutualis.privacy import catalogue, restrictions


def creditor_identifier() -> str:
    """The mutuelle's SEPA creditor identifier (ICS), from settings, checked by stdnum."""
    return validators.validate_creditor_identifier(settings.MUTUALIS_SEPA_CREDITOR_ID)


def build_mandate(
    *, member: Member, iban: str, bic: str, debtor_name: str, signed_place: str
) -> Mandate:
    return Mandate(
        member=member,
        data_key_id=member.person.data_key_id,
        reference=new_mandate_reference(),
        creditor_identifier=creditor_identifier(),
        debtor_name=debtor_name.strip(),
        iban=validators.validate_iban(iban),
        bic=validators.validate_bic(bic) if bic else "",
        signed_place=signed_place.strip(),
    )


def create_mandate(
    *, member: Member, iban: str, bic: str = "", debtor_name: str, signed_place: str, actor=None
) -> Mandate:
    """An electronic SEPA mandate (SDD Core rulebook): unique RUM, the mutuelle's ICS."""
    with transaction.atomic():
        mandate = build_mandate(
            member=member,
            iban=iban,
            bic=bic,
            debtor_name=debtor_name,
            signed_place=signed_place,
        )
        mandate.save()
        audit.record(
            BillingTag.MANDATE_CREATE,
            actor=actor,
            subject=member.person_id,
            target=mandate,
            details={"reference": mandate.reference},
        )
    return mandate


def change_bank_account(
    *, member: Member, iban: str, bic: str = "", debtor_name: str, signed_place: str, actor=None
) -> Mandate:
    """A new account means a new mandate; the current one ends at the same instant."""
    with transaction.atomic():
        now = timezone.now()
        for old in Mandate.objects.select_for_update().filter(member=member).current():
            old.ended_at = now
            old.save(update_fields=["ended_at"])
            audit.record(
                BillingTag.MANDATE_END,
                actor=actor,
                subject=member.person_id,
                target=old,
                details={"reference": old.reference, "reason": "changement de compte"},
            )
        return create_mandate(
            member=member,
            iban=iban,
            bic=bic,
            debtor_name=debtor_name,
            signed_place=signed_place,
            actor=actor,
        )


def reveal_iban(*, mandate: Mandate, actor, reason: str) -> str:
    """Show a staff member the full IBAN: a logged act, with the reason given."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValueError("Indiquez le motif de la consultation (5 caractères au moins).")
    # A restricted person's IBAN is stored, not shown (GDPR art. 18(2)).
    restrictions.ensure_allowed(
        mandate.member.person_id, purpose=catalogue.CONTRACT, use=BillingTag.IBAN_REVEAL
    )
    with transaction.atomic():
        audit.record(
            BillingTag.IBAN_REVEAL,
            actor=actor,
            subject=mandate.member.person_id,
            target=mandate,
            details={"reason": reason[:500]},
        )
    return mandate.iban
