"""Mandatory-scheme exchanges, for the security and accessibility suites."""

from mutualis.lib.pages import cover


def _rejected_line(world) -> dict:
    from mutualis.tests_security.world import rejected_exchange_line

    return {"line_id": rejected_exchange_line(world).pk}


cover("backoffice:exchange_list")
cover("backoffice:rejection_resolve", kwargs=_rejected_line)
