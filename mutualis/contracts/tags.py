from mutualis.audit.tags import Tag


class ContractsTag(Tag):
    CONTRACT_CREATE = "contracts:contract:create"
    SUBSCRIPTION_CONFIRM = "contracts:subscription:confirm"
