"""Member search, record and reveals, for the security and accessibility suites."""

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
