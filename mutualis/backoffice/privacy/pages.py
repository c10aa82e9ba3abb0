"""Retention, holds, the register and the audit log, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _hold(world):
    from mutualis.privacy import holds

    return world.get(
        "hold",
        lambda w: holds.place_hold(reason="Contentieux", actor=w.bob, subject=w.alice.person_id),
    )


for name in (
    "retention",
    "holds",
    "hold_place_person",
    "hold_place_record",
    "processing_register",
    "processing_register_csv",
    "audit_log",
    "audit_filter",
    "audit_verify",
):
    cover(f"backoffice:{name}")
cover("backoffice:hold_release", kwargs=lambda w: {"hold_id": _hold(w).pk})
