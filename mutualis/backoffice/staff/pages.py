"""Staff administration, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _colleague(world) -> dict:
    return {"account_id": world.target("gestion").pk}


def _approval(world) -> dict:
    from mutualis.staff import approvals

    approval = world.get(
        "approval",
        lambda w: approvals.request_factor_reset(
            account=w.target("cotisations"), actor=w.second_admin, reason="Téléphone perdu"
        ),
    )
    return {"approval_id": approval.pk}


cover("backoffice:staff_list")
cover("backoffice:staff_invite")
cover("backoffice:staff_approvals")
for name in (
    "staff_account",
    "staff_change_role",
    "staff_deactivate",
    "staff_reactivate",
    "staff_resend_invitation",
    "staff_factor_reset",
):
    cover(f"backoffice:{name}", kwargs=_colleague)
for name in ("staff_approve", "staff_reject"):
    cover(f"backoffice:{name}", kwargs=_approval)
