from mutualis.billing.tags import BillingTag
from mutualis.privacy import catalogue as c
from mutualis.privacy import restrictions
from mutualis.privacy.declaration import personal
from mutualis.privacy.registry import declare, declare_not_personal

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
        "one_off": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "ended_at": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "previous_reference": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "previous_iban": personal(c.BANK, _BANK, provided=True, encrypted=True, kept_for=_KEPT),
        "amendment_pending": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "last_collected_on": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
        "lapsed_at": personal(c.BANK, _BANK, provided=False, kept_for=_KEPT),
    },
    not_personal=["id", "member", "data_key", "archived_at"],
    purpose=c.LEGAL_OBLIGATIONS,
    retention_anchor="ended_at",
    subject_field="member__person",
    retention=c.RETENTION_MANDATE,
)

# Revealing an IBAN uses the person's data beyond storage: the restriction guard stands before it.
restrictions.register_use(BillingTag.IBAN_REVEAL, purposes=[c.CONTRACT])

# --- Premiums, ledger, debits, returns, unpaid premiums ----------------------------------------
# Accounting documents: kept 10 years from the end of their financial year (RETENTION_ACCOUNTING,
# anchored on ``year_end``); the unpaid-premium file follows the contract.
_PAYMENT = personal(c.PAYMENT_TERMS, [c.CONTRACT, c.LEGAL_OBLIGATIONS], provided=False)
# The history of the member's payments is data observed from their own activity, portable as
# "provided by" them (EDPB guidelines on portability, WP242 rev.01, 2.2.1: a transaction
# history); premiums the mutuelle computes are not.
_PAID = personal(c.PAYMENT_TERMS, [c.CONTRACT, c.LEGAL_OBLIGATIONS], provided=True)
_STAFF = personal(c.TECHNICAL, [c.SECURITY_LOGGING], provided=False)
_ACCOUNTING = {
    "retention_anchor": "year_end",
    "retention": c.RETENTION_ACCOUNTING,
    "purpose": c.LEGAL_OBLIGATIONS,
}

# Declared in deletion order: a record that refers to another goes before it (the retention
# engine deletes in this order; a record still referred to is kept by PROTECT).
declare(
    "billing.LedgerEntry",
    fields={
        "kind": _PAID,
        "amount": _PAID,
        "booked_on": _PAID,
        "label": _PAID,
        "reference": _PAID,
        "created_by": _STAFF,
    },
    not_personal=[
        "id",
        "member",
        "contract",
        "instalment",
        "debit",
        "idempotency_key",
        "created_at",
        "year_end",
        "archived_at",
    ],
    subject_field="member__person",
    **_ACCOUNTING,
)
declare(
    "billing.DebitReturn",
    fields={
        "kind": _PAYMENT,
        "reason_code": _PAYMENT,
        "amount": _PAYMENT,
        "booked_on": _PAYMENT,
        "status": _PAYMENT,
        "note": _PAYMENT,
        "handled_by": _STAFF,
        "handled_at": _STAFF,
    },
    not_personal=["id", "file", "debit", "year_end", "archived_at"],
    subject_field="debit__member__person",
    **_ACCOUNTING,
)
declare(
    "billing.Instalment",
    fields={"month": _PAYMENT, "due_date": _PAYMENT, "amount": _PAYMENT},
    not_personal=["id", "contract", "member", "debit", "computed_at", "year_end", "archived_at"],
    subject_field="member__person",
    **_ACCOUNTING,
)
declare(
    "billing.PreNotification",
    fields={
        "schedule": _PAYMENT,
        "collection_date": _PAYMENT,
        "amount": _PAYMENT,
        "emailed_at": _PAYMENT,
        "posted_at": _PAYMENT,
        "email_refused_at": _PAYMENT,
    },
    not_personal=[
        "id",
        "member",
        "mandate",
        "created_at",
        "print_run",
        "year_end",
        "archived_at",
    ],
    subject_field="member__person",
    **_ACCOUNTING,
)
declare(
    "billing.Debit",
    fields={
        "amount": _PAYMENT,
        "remittance": _PAYMENT,
        "end_to_end_id": _PAYMENT,
        "sequence_type": _PAYMENT,
        "original_mandate_reference": personal(c.BANK, _BANK, provided=False),
        "original_debtor_account_changed": personal(c.BANK, _BANK, provided=False),
        "original_account_sent": personal(c.BANK, _BANK, provided=False),
        "status": _PAYMENT,
    },
    not_personal=[
        "id",
        "batch",
        "mandate",
        "member",
        "created_at",
        "year_end",
        "archived_at",
    ],
    subject_field="member__person",
    **_ACCOUNTING,
)
declare_not_personal("billing.DebitBatch")
declare(
    "billing.ReturnFile",
    fields={"imported_by": _STAFF},
    not_personal=[
        "id",
        "sha256",
        "kind",
        "file_name",
        "message_id",
        "imported_at",
        "return_count",
    ],
)
_FOLLOWS_CONTRACT = {
    "retention_anchor": "contract__end_date",
    "retention": c.RETENTION_CONTRACT,
    "purpose": c.CONTRACT,
}
declare(
    "billing.DunningCase",
    fields={
        name: _PAYMENT
        for name in (
            "stage",
            "due_date",
            "amount",
            "notice_sent_on",
            "suspended_from",
            "terminated_on",
            "settled_on",
            "restored_at",
        )
    },
    not_personal=["id", "contract", "opened_at", "archived_at"],
    subject_field="contract__member__person",
    **_FOLLOWS_CONTRACT,
)
declare(
    "billing.DunningLetter",
    fields={"kind": _PAYMENT, "sent_at": _PAYMENT},
    not_personal=["id", "case", "created_at", "archived_at"],
    subject_field="case__contract__member__person",
    retention_anchor="case__contract__end_date",
    retention=c.RETENTION_CONTRACT,
    purpose=c.CONTRACT,
)
declare(
    "billing.PaymentPlan",
    fields={
        "instalment_count": _PAYMENT,
        "instalment_amount": _PAYMENT,
        "first_date": _PAYMENT,
        "ended_at": _PAYMENT,
        "granted_by": _STAFF,
    },
    not_personal=["id", "case", "granted_at", "archived_at"],
    subject_field="case__contract__member__person",
    retention_anchor="case__contract__end_date",
    retention=c.RETENTION_CONTRACT,
    purpose=c.CONTRACT,
)
