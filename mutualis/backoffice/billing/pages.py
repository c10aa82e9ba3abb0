"""The cotisations service's pages, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _history(world):
    """Alice's premiums with a debit released and rejected: an unpaid case with its notice, a
    plan, a batch with its file, a bank return — through the services."""
    from mutualis.billing.testing import suite_history

    return world.get(("billing", world.alice.pk), lambda w: suite_history(w.alice))


cover("backoffice:billing_queue")
cover("backoffice:billing_member", kwargs=lambda w: {"member_id": w.alice.pk})
cover("backoffice:billing_record_payment", kwargs=lambda w: {"member_id": w.alice.pk}, status=405)
for name in ("billing_case_notice", "billing_case_terminate", "billing_case_plan"):
    cover(f"backoffice:{name}", kwargs=lambda w: {"case_id": _history(w)["case"].pk}, status=405)
cover(
    "backoffice:billing_plan_end", kwargs=lambda w: {"plan_id": _history(w)["plan"].pk}, status=405
)
cover("backoffice:billing_letter_pdf", kwargs=lambda w: {"letter_id": _history(w)["letter"].pk})
cover("backoffice:billing_notices_post")
cover(
    "backoffice:billing_notices_run_pdf",
    kwargs=lambda w: {"run_id": _history(w)["print_run"]},
)
cover("backoffice:billing_batches")
cover("backoffice:billing_batch", kwargs=lambda w: {"batch_id": _history(w)["batch"].pk})
cover("backoffice:billing_batch_file", kwargs=lambda w: {"batch_id": _history(w)["batch"].pk})
cover("backoffice:billing_returns")
cover(
    "backoffice:billing_return_handle",
    kwargs=lambda w: {"return_id": _history(w)["return"].pk},
    status=405,
)
