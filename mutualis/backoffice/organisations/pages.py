"""Recipient organisations and their API keys, for the security and accessibility suites."""

from mutualis.lib.pages import cover, exempt

_PENDING = (
    "needs an object the suite world does not build yet; its own tests cover its "
    "permissions, CSRF and bad input"
)

for name in ("organisation_list", "organisation_create"):
    cover(f"backoffice:{name}")
for name in (
    "organisation_detail",
    "organisation_edit",
    "organisation_activation",
    "key_create",
    "key_rotate",
    "key_revoke",
):
    exempt(f"backoffice:{name}", _PENDING)
