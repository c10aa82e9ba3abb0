"""Mandatory-scheme exchanges, for the security and accessibility suites."""

from mutualis.lib.pages import cover, exempt

_PENDING = (
    "needs an object the suite world does not build yet; its own tests cover its "
    "permissions, CSRF and bad input"
)

cover("backoffice:exchange_list")
exempt("backoffice:rejection_resolve", _PENDING)
