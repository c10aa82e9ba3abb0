"""The privacy policy shipped with the code, as a dated version (promise T12, before deployment).

``privacy_check`` (T12) compares the live site's published version with what the declaration
renders, once deployed. Before that, the test suite must stop a change of the declaration that
alters what the policy says from shipping without a new dated version: the text the declaration
renders is kept in the repository, in :data:`PATH`, under a first line giving its date, and
``privacy/tests/test_shipped_policy.py`` compares today's rendering with it.

When a change alters the policy (a new purpose, field, recipient, retention rule, cookie…), one
command records the new version, to be read and committed with the change::

    python manage.py publish_policy --ship

The text is the declaration's: the organisation's identity (its name, address, DPO…), which each
deployment sets, is written as placeholders (``[name]``, ``[dpo_email]``…), so the file does not
depend on the machine it was written on. Publishing on the live site is unchanged
(``publish_policy`` at deployment: a version dated the day it goes live).
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from mutualis.privacy import policy

PATH = Path(__file__).resolve().parent / "policy_shipped.html"
SHIP_COMMAND = "python manage.py publish_policy --ship"
_HEADER = "<!-- Politique de confidentialité livrée avec le code : version du {date} -->\n"
_HEADER_RE = re.compile(
    r"\A<!-- Politique de confidentialité livrée avec le code : version du "
    r"(?P<date>\d{4}-\d{2}-\d{2}) -->\n"
)
# Settings read by the policy that a deployment may change: the text is shipped with the
# project's defaults (as the test suite runs), never with one machine's values.
DEPLOYMENT_SETTINGS = ("SESSION_COOKIE_AGE",)


class ShipError(ValueError):
    """A shipping the rules refuse (French message)."""


@dataclass(frozen=True)
class ShippedPolicy:
    date: datetime.date
    body: str


def placeholders() -> dict[str, str]:
    """The organisation's identity as placeholders: ``{"name": "[name]", …}``."""
    return {key: f"[{key}]" for key in settings.MUTUALIS_ORGANISATION}


def render() -> str:
    """The policy body today's declaration renders, the organisation's identity as
    placeholders."""
    context = {**policy.policy_context(), "organisation": placeholders()}
    return render_to_string("privacy/policy_body.html", context)


def latest(path: Path | None = None) -> ShippedPolicy | None:
    """The version shipped with the code, or None when none was ever shipped."""
    path = path or PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    match = _HEADER_RE.match(text)
    if match is None:
        raise ShipError(f"{path.name} : première ligne illisible (date de la version attendue).")
    return ShippedPolicy(datetime.date.fromisoformat(match["date"]), text[match.end() :])


def ship(day: datetime.date, path: Path | None = None) -> tuple[ShippedPolicy, bool]:
    """Record today's rendering as the version of ``day``; ``(version, written)``.

    Nothing is written when the text has not changed. A version is dated on or after the one
    shipped before; one of the same day is replaced (both are the day's text).
    """
    path = path or PATH
    overridden = [name for name in DEPLOYMENT_SETTINGS if os.environ.get(name)]
    if overridden:
        raise ShipError(
            "Le texte livré se génère avec les réglages par défaut : retirez "
            f"{', '.join(overridden)} de l'environnement, puis relancez."
        )
    body = render()
    current = latest(path)
    if current is not None and current.body == body:
        return current, False
    if current is not None and day < current.date:
        raise ShipError(
            f"La date de la version doit suivre celle de la version livrée "
            f"({current.date:%d/%m/%Y})."
        )
    path.write_text(_HEADER.format(date=day.isoformat()) + body, encoding="utf-8")
    return ShippedPolicy(day, body), True
