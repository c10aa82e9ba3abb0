"""Campaigns and consent notices, for the security and accessibility suites."""

from mutualis.lib.pages import cover, exempt

_PENDING = (
    "needs an object the suite world does not build yet; its own tests cover its "
    "permissions, CSRF and bad input"
)

for name in ("campaign_list", "campaign_create", "notice_list"):
    cover(f"backoffice:{name}")
for name in (
    "campaign_detail",
    "campaign_edit",
    "campaign_send",
    "campaign_pause",
    "campaign_resume",
    "campaign_cancel",
    "campaign_log",
    "campaign_printer",
    "campaign_printer_csv",
    "campaign_printer_pdf",
    "record_choice",
    "choice_document",
):
    exempt(f"backoffice:{name}", _PENDING)
