"""Authority requisitions, for the security and accessibility suites."""

from mutualis.lib.pages import cover, exempt

_PENDING = (
    "needs an object the suite world does not build yet; its own tests cover its "
    "permissions, CSRF and bad input"
)

for name in ("requisition_list", "requisition_create"):
    cover(f"backoffice:{name}")
for name in (
    "requisition_detail",
    "requisition_decide",
    "requisition_export",
    "requisition_download",
    "requisition_deliver",
    "requisition_lift_secrecy",
):
    exempt(f"backoffice:{name}", _PENDING)
exempt("backoffice:letter_sent", _PENDING)
