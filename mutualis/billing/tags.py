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
    TARIFF_IMPORT = "billing:tariff:import"
    PRENOTIFY = "billing:prenotification:send"
    PRENOTIFY_UNSENT = "billing:prenotification:unsent"  # the e-mail did not leave: not given
    PRENOTIFY_REFUSED = "billing:prenotification:refused"  # refused: the notices go by post
    # the address corrected: notices refused at the former one e-mailed again, not posted
    PRENOTIFY_READDRESSED = "billing:prenotification:readdressed"
    PRENOTIFY_POST = "billing:prenotification:post"  # in a print run, for a member without e-mail
    PRENOTIFY_PRINT = "billing:prenotification:print"  # a print run's letters printed
    BATCH_BUILD = "billing:batch:build"
    BATCH_RELEASE = "billing:batch:release"
    BATCH_DOWNLOAD = "billing:batch:download"
    RETURNS_IMPORT = "billing:returns:import"
    RETURN_HANDLE = "billing:return:handle"
    DUNNING_OPEN = "billing:dunning:open"
    DUNNING_NOTICE = "billing:dunning:notice"
    DUNNING_SUSPEND = "billing:dunning:suspend"
    DUNNING_TERMINATE = "billing:dunning:terminate"
    DUNNING_SETTLE = "billing:dunning:settle"
    LETTER_SEND = "billing:letter:send"
    PLAN_GRANT = "billing:plan:grant"
    PLAN_END = "billing:plan:end"
    CERTIFICATE_ISSUE = "billing:certificate:issue"
