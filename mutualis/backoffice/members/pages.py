"""Member search, record, reveals and who a contract covers, for the security and accessibility
suites."""

from mutualis.lib.pages import cover

cover("backoffice:member_search")
cover("backoffice:member_detail", kwargs=lambda w: {"member_id": w.alice.pk})
cover(
    "backoffice:reveal_nir",
    kwargs=lambda w: {"member_id": w.alice.pk, "person_id": w.alice.person_id},
)
cover(
    "backoffice:reveal_iban",
    kwargs=lambda w: {"member_id": w.alice.pk, "mandate_id": w.alice.mandates.get().pk},
)
cover(
    "backoffice:contract_beneficiary_add",
    kwargs=lambda w: {"member_id": w.alice.pk, "contract_id": w.alice.contracts.get().pk},
)
cover(
    "backoffice:contract_beneficiary_remove",
    kwargs=lambda w: {
        "member_id": w.alice.pk,
        "contract_id": w.alice.contracts.get().pk,
        "beneficiary_id": w.alice.beneficiaries.first().pk,
    },
    status=405,
)
