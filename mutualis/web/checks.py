"""Production safety checks: the process refuses unsafe settings with a clear message."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if settings.SECRET_KEY_MISSING:
        errors.append(
            checks.Error(
                "No SECRET_KEY is configured.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE (50+ random characters).",
                id="web.E001",
            )
        )
    elif not settings.DEV_DEFAULTS and (
        len(settings.SECRET_KEY) < 50 or len(set(settings.SECRET_KEY)) < 5
    ):
        errors.append(
            checks.Error(
                "SECRET_KEY is too short or too simple for production.",
                hint="Use at least 50 random characters.",
                id="web.E002",
            )
        )
    if not settings.DEV_DEFAULTS and not settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "ALLOWED_HOSTS is empty.",
                hint="Set ALLOWED_HOSTS to the site's host names, comma-separated.",
                id="web.E003",
            )
        )
    if settings.MUTUALIS_LEGAL_NOTICE_MISSING:
        errors.append(
            checks.Error(
                "The legal notice is incomplete: "
                + ", ".join(settings.MUTUALIS_LEGAL_NOTICE_MISSING)
                + " not set.",
                hint="Set each of these variables to the mutuelle's own value (publisher, "
                "publication director, host, mediator): the site must not show a placeholder.",
                id="web.E004",
            )
        )
    return errors
