"""SEPA mandates: creation at subscription, replacement on a change of bank account."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum import iban as stdnum_iban

from mutualis import audit
from mutualis.billing.models import Mandate, new_mandate_reference
from mutualis.billing.tags import BillingTag
from mutualis.members import validators
from mutualis.members.models import Member
from mutualis.privacy import catalogue, restrictions


def creditor_identifier() -> str:
    """The mutuelle's SEPA creditor identifier (ICS), from settings, checked by stdnum."""
    return validators.validate_creditor_identifier(settings.MUTUALIS_SEPA_CREDITOR_ID)


def debtor_fields(
    *, iban: str, bic: str, debtor_name: str, signed_place: str, checked: bool = False
) -> dict[str, str]:
    """The fields of a new mandate that the debtor gives, as a mandate stores them.

    ``checked``: the caller has just validated the IBAN with :func:`validators.validate_iban`
    (``check_application`` does, for the form and the import), so it is only put in the compact
    form that function returns, not checked a second time (the IBAN check is the costly one).
    """
    return {
        "debtor_name": debtor_name.strip(),
        "iban": stdnum_iban.compact(iban or "") if checked else validators.validate_iban(iban),
        "bic": validators.validate_bic(bic) if bic else "",
        "signed_place": signed_place.strip(),
    }


def build_mandate(
    *, member: Member, iban: str, bic: str, debtor_name: str, signed_place: str
) -> Mandate:
    return Mandate(
        member=member,
        data_key_id=member.person.data_key_id,
        reference=new_mandate_reference(),
        creditor_identifier=creditor_identifier(),
        **debtor_fields(iban=iban, bic=bic, debtor_name=debtor_name, signed_place=signed_place),
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
