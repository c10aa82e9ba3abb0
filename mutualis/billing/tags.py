from mutualis.audit.tags import Tag


class BillingTag(Tag):
    MANDATE_CREATE = "billing:mandate:create"
    MANDATE_END = "billing:mandate:end"
    MANDATE_AMEND = "billing:mandate:amend"
    MANDATE_LAPSE = "billing:mandate:lapse"
    IBAN_REVEAL = "billing:iban:reveal"
    LEDGER_BOOK = "billing:ledger:book"
    SCHEDULE_BUILD = "billing:schedule:build"
    SCHEDULE_RECOMPUTE = "billing:schedule:recompute"
    CONTRACT_BENEFICIARY_ADD = "billing:contract_beneficiary:add"
    CONTRACT_BENEFICIARY_REMOVE = "billing:contract_beneficiary:remove"
    TARIFF_NOTICE = "billing:tariff_notice:send"
    PRENOTIFY = "billing:prenotification:send"
    BATCH_BUILD = "billing:batch:build"
    BATCH_RELEASE = "billing:batch:release"
    RETURNS_IMPORT = "billing:returns:import"
