from mutualis.billing.tags import BillingTag
from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare

_BANK = [c.CONTRACT, c.LEGAL_OBLIGATIONS]
_KEPT = "C. monétaire et financier L133-24 : 13 mois après le dernier prélèvement"

declare(
    "billing.Mandate",
    fields={
        "reference": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "creditor_identifier": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "debtor_name": personal(c.BANK, _BANK, provided=True, kept_for=_KEPT),
        "iban": personal(c.BANK, _BANK, provided=True, encrypted=True, kept_for=_KEPT),
        "bic": personal(c.BANK, _BANK, provided=True, kept_for=_KEPT),
        "signed_at": personal(c.BANK, _BANK, provided=True, kept_for=_KEPT),
        "signed_place": personal(c.BANK, _BANK, provided=True, kept_for=_KEPT),
        "ended_at": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
    },
    not_personal=["id", "member", "data_key", "archived_at"],
    purpose=c.LEGAL_OBLIGATIONS,
    retention_anchor="ended_at",
    subject_field="member__person",
    retention=c.RETENTION_MANDATE,
)

# Revealing an IBAN uses the person's data beyond storage: the restriction guard stands before it.
restrictions.register_use(BillingTag.IBAN_REVEAL, purposes=[c.CONTRACT])
