"""The faces' fixed entry points, for domain code that must point to one without naming a face.

A domain module never names a face (architecture.md §8). A link to one object (an activation
link, the page of a rights request) is passed in by the face that calls the service. A fixed
entry point that domain code needs when no face is calling it (the terms of use, rendered and
published by a command; the demo logins `manage.py demo` prints) is declared by its face when
the face's app starts, under a name the domain knows::

    # portal/apps.py (the face)
    links.declare(links.MEMBER_LOGIN, lambda: reverse("portal:login"))

    # contracts/demo.py (the domain)
    url = site_url(links.path(links.MEMBER_LOGIN))

The path is resolved when asked for, so the URL configuration is read once it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

# The entry points domain code may ask for, each declared by the face that serves it.
MEMBER_LOGIN = "member_login"  # the member space's login page (portal)
POLICY = "policy"  # the privacy policy in force (web)
COOKIES = "cookies"  # the cookies page (web)
RIGHTS_CHECK_API = "rights_check_api"  # the partners' rights-check endpoint (partners)

_declared: dict[str, Callable[[], str]] = {}


def declare(name: str, path: Callable[[], str]) -> None:
    """Declare where the entry point ``name`` is: ``path()`` returns its path on the site."""
    _declared[name] = path


def path(name: str) -> str:
    """The path of the entry point ``name`` on the site (``"/espace/connexion/"``)."""
    try:
        resolve = _declared[name]
    except KeyError:
        raise LookupError(
            f"no face declared the entry point {name!r}: the face that serves it declares it in "
            "its AppConfig.ready() with mutualis.lib.links.declare()"
        ) from None
    return resolve()
