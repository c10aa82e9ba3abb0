from mutualis.audit.tags import Tag


class ContractsTag(Tag):
    CONTRACT_CREATE = "contracts:contract:create"
    SUBSCRIPTION_CONFIRM = "contracts:subscription:confirm"
    # Bulk import from the legacy system: one event per batch, one for the whole run.
    IMPORT_BATCH = "contracts:import:batch"
    IMPORT_RUN = "contracts:import:run"
    # Terms of use and policy versions (architecture.md §13).
    CGU_PUBLISH = "contracts:cgu:publish"
    CGU_ACCEPT = "contracts:cgu:accept"
    POLICY_NOTICE = "contracts:policy:notice"
    POLICY_SEEN = "contracts:policy:seen"
