"""Audience statistics, for the security and accessibility suites."""

from mutualis.lib.pages import cover

cover("backoffice:statistics")
