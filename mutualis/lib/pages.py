"""The registry of the pages the security and accessibility suites visit: every URL of the
resolver is either *covered* (the suites know how to build what it needs) or *exempted* with a
reason. A URL that is neither fails the suite the day it is added (``docs/security_suite.md``).

Each face states its cases in a ``pages.py`` module beside its ``urls.py``::

    from mutualis.lib.pages import cover, exempt

    cover("portal:contract", owned=lambda member, world: {"pk": member.contracts.get().pk})
    cover("backoffice:member_detail", kwargs=lambda world: {"member_id": world.alice.pk})
    exempt("backoffice:logout", "a POST that only ends the session; covered by the CSRF test")

``kwargs`` builds the URL's arguments from the test *world* (the personas and what the cases
built, shared through ``world.get(key, factory)``); ``owned`` builds them for objects that belong
to one member (the member space's cross-member test asks alice for dave's). Nothing here runs in
production: the callables are only called by the suites.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

World = Any
Kwargs = Callable[[World], dict]
Owned = Callable[[Any, World], dict]


@dataclass(frozen=True)
class Case:
    name: str  # "namespace:url_name", as reverse() takes it
    kwargs: Kwargs | None = None
    owned: Owned | None = None
    public: bool = False  # reachable without logging in
    status: int = 200  # what a GET by a persona allowed to see the page answers
    # Prepares the client before a GET (e.g. a subscription under way), as ``setup(client, world)``.
    setup: Callable[[Any, World], None] | None = None
    # Why a file download of this URL is not an export needing a recent re-authentication.
    download: str = ""
    # Why a role holding the permission may still get 404: the object belongs to one service
    # (an inquiry is its service's). At least one role must then reach it.
    row_scope: str = ""
    # Why a POST without a CSRF token is rightly accepted (a view marked ``csrf_exempt``, such
    # as the RFC 8058 one-click unsubscribe a mail client posts by itself); empty: it is refused.
    csrf_exempt: str = ""
    module: str = ""


@dataclass(frozen=True)
class Exemption:
    name: str
    reason: str
    module: str = ""


_entries: dict[str, Case | Exemption] = {}


def _register(entry: Case | Exemption) -> None:
    if entry.name in _entries and _entries[entry.name].module != entry.module:
        raise ValueError(f"{entry.name} is registered twice ({_entries[entry.name].module})")
    _entries[entry.name] = entry


def _caller() -> str:
    import inspect

    return inspect.stack()[2].frame.f_globals.get("__name__", "?")


def cover(name: str, **options: Any) -> None:
    _register(Case(name=name, module=_caller(), **options))


def exempt(name: str, reason: str) -> None:
    if not reason.strip():
        raise ValueError(f"an exemption needs a reason: {name}")
    _register(Exemption(name=name, reason=reason, module=_caller()))


def registry() -> dict[str, Case | Exemption]:
    """Every case and exemption, after importing each ``pages`` module of the project."""
    import mutualis

    for module in pkgutil.walk_packages(mutualis.__path__, "mutualis."):
        if module.name.rsplit(".", 1)[-1] == "pages" and ".tests" not in module.name:
            importlib.import_module(module.name)
    return dict(_entries)
