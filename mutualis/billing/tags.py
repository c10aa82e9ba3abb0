from mutualis.audit.tags import Tag


class BillingTag(Tag):
    MANDATE_CREATE = "billing:mandate:create"
    MANDATE_END = "billing:mandate:end"
    IBAN_REVEAL = "billing:iban:reveal"
    LEDGER_BOOK = "billing:ledger:book"
