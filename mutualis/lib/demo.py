"""What an app's ``demo.load()`` returns: the logins `make run` prints."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


def site_url(path: str = "/") -> str:
    """An absolute link on the demo site (``MUTUALIS_SITE_URL``: ``make run PORT=…`` sets it)."""
    return settings.MUTUALIS_SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class DemoLogin:
    role: str
    url: str
    login: str
    password: str
    extra: str = ""

    def __str__(self) -> str:
        text = f"{self.role} : {self.url} — identifiant {self.login}, mot de passe {self.password}"
        return f"{text} ({self.extra})" if self.extra else text
