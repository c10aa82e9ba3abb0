"""SEPA mandates: creation at subscription, amendment on a change of bank account or of
reference, lapse after 36 months without a collection (SEPA SDD Core rulebook)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from stdnum import iban as stdnum_iban

from mutualis import audit
from mutualis.billing.models import Mandate, new_mandate_reference
from mutualis.billing.tags import BillingTag
from mutualis.lib.dates import add_months
from mutualis.members import validators
from mutualis.members.models import Member
from mutualis.privacy import catalogue, restrictions

# Length of the national bank code at the start of the BBAN, by country (ISO 13616 registry):
# a new IBAN under another bank code is a change of debtor bank ("SMNDA" in the next debit).
BANK_CODE_LENGTH = {
    "AT": 5, "BE": 3, "CH": 5, "DE": 8, "ES": 4, "FI": 3, "FR": 5, "GB": 4, "IE": 4, "IT": 6,
    "LU": 3, "MC": 5, "NL": 4, "PT": 4,
}  # fmt: skip


def same_bank(old_iban: str, new_iban: str) -> bool:
    """Whether two IBANs are held at the same bank. Unknown countries count as another bank:
    announcing a change of bank (SMNDA, sent as a first debit) is always accepted."""
    old, new = stdnum_iban.compact(old_iban), stdnum_iban.compact(new_iban)
    length = BANK_CODE_LENGTH.get(new[:2])
    return length is not None and old[:2] == new[:2] and old[4 : 4 + length] == new[4 : 4 + length]


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
    *,
    member: Member,
    iban: str,
    bic: str = "",
    debtor_name: str,
    signed_place: str,
    signed_at: datetime.datetime | None = None,
    actor=None,
) -> Mandate:
    """An electronic SEPA mandate (SDD Core rulebook): unique RUM, the mutuelle's ICS. A mandate
    taken over from the previous system keeps its ``signed_at``."""
    with transaction.atomic():
        mandate = build_mandate(
            member=member,
            iban=iban,
            bic=bic,
            debtor_name=debtor_name,
            signed_place=signed_place,
        )
        if signed_at is not None:
            if signed_at > timezone.now():
                raise ValueError("La date de signature du mandat ne peut pas être future.")
            mandate.signed_at = signed_at
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
    """The member authorises debits from another account.

    The current mandate keeps its reference and is amended: the new IBAN replaces the old one,
    which is kept and sent with the next debit as the rulebook's amendment information (the
    former account at the same bank, or "SMNDA" for another bank). Without a current mandate
    (none yet, revoked or lapsed) a new one is signed.
    """
    fields = debtor_fields(iban=iban, bic=bic, debtor_name=debtor_name, signed_place=signed_place)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().filter(member=member).current().first()
        if mandate is None:
            return create_mandate(member=member, actor=actor, **fields)
        if mandate.iban == fields["iban"]:
            raise ValueError("Ce compte est déjà celui du mandat en cours.")
        if not mandate.amendment_pending or not mandate.previous_iban:
            # Two changes before the next debit: the bank still knows the first account.
            mandate.previous_iban = mandate.iban
        mandate.iban = fields["iban"]
        mandate.bic = fields["bic"]
        mandate.debtor_name = fields["debtor_name"]
        mandate.amendment_pending = True
        mandate.save(
            update_fields=["iban", "bic", "debtor_name", "previous_iban", "amendment_pending"]
        )
        audit.record(
            BillingTag.MANDATE_AMEND,
            actor=actor,
            subject=member.person_id,
            target=mandate,
            details={
                "reference": mandate.reference,
                "change": "account",
                "same_bank": same_bank(mandate.previous_iban, mandate.iban),
                "signed_place": fields["signed_place"][:100],
            },
        )
    return mandate


def change_reference(*, mandate: Mandate, actor, reason: str) -> Mandate:
    """Give the mandate a new reference (RUM), e.g. after a migration of references; the
    former one is sent with the next debit (OrgnlMndtId)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValueError("Indiquez le motif du changement de référence (5 caractères au moins).")
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.ended_at or mandate.lapsed_at:
            raise ValueError("Ce mandat n'est plus en cours : sa référence ne change plus.")
        if not mandate.amendment_pending or not mandate.previous_reference:
            mandate.previous_reference = mandate.reference
        mandate.reference = new_mandate_reference()
        mandate.amendment_pending = True
        mandate.save(update_fields=["reference", "previous_reference", "amendment_pending"])
        audit.record(
            BillingTag.MANDATE_AMEND,
            actor=actor,
            subject=mandate.member.person_id,
            target=mandate,
            details={"reference": mandate.reference, "change": "reference", "reason": reason[:500]},
        )
    return mandate


def lapse_mandates(*, today: datetime.date, actor=None) -> int:
    """Mandates unused for ``MUTUALIS_MANDATE_LAPSE_MONTHS`` (36) months lapse (SEPA rulebook):
    none of their debits may be presented any more. Returns how many lapsed; audited."""
    limit = add_months(today, -int(settings.MUTUALIS_MANDATE_LAPSE_MONTHS))
    stale = Mandate.objects.current().filter(
        Q(last_collected_on__lt=limit)
        | Q(last_collected_on__isnull=True, signed_at__date__lt=limit)
    )
    lapsed = 0
    now = timezone.now()
    for mandate in stale.select_related("member").iterator(chunk_size=1000):
        with transaction.atomic():
            Mandate.objects.filter(pk=mandate.pk, lapsed_at__isnull=True).update(lapsed_at=now)
            audit.record(
                BillingTag.MANDATE_LAPSE,
                actor=actor,
                subject=mandate.member.person_id,
                target=mandate,
                details={
                    "reference": mandate.reference,
                    "last_collected_on": str(mandate.last_collected_on or ""),
                },
            )
        lapsed += 1
    return lapsed


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
