"""The breach register, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _breach(world) -> dict:
    from mutualis.breaches.testing import recorded_breach

    return {"breach_id": world.get("breach", lambda w: recorded_breach(actor=w.bob)).pk}


cover("backoffice:breach_register")
cover("backoffice:breach_register_csv")
cover("backoffice:breach_record")
for name in (
    "breach_detail",
    "breach_edit",
    "breach_notification",
    "breach_notification_text",
    "breach_decide",
    "breach_people",
    "breach_send_letters",
    "breach_postal_letters",
    "breach_close",
    "breach_reopen",
):
    cover(f"backoffice:{name}", kwargs=_breach)
