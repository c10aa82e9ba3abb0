"""The disclosure register, for the security and accessibility suites."""

from mutualis.lib.pages import cover

cover("backoffice:disclosure_register")
cover("backoffice:disclosure_register_csv")  # an export: asks for a recent re-authentication
