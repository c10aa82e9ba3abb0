"""The world the generated suites request pages in: the personas, one verified staff account
per role of the role table, and the objects the pages' cases build (``mutualis.lib.pages``).

alice's record carries a recognisable value in each category of data, so that a page can be
checked to show no category the declaration does not grant the viewer's service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import PASSWORD
from mutualis.backoffice.testing import give_device, login_verified
from mutualis.billing.models import Mandate
from mutualis.lib.pages import Case, Exemption, registry
from mutualis.members import roles
from mutualis.members.models import User, UserKind
from mutualis.members.validators import mask_iban, mask_nir
from mutualis.privacy import catalogue

CONTACT_MARKER = "7 rue Marqueur-Coordonnées"
ADMINISTRATIVE_MARKER = "CPAM Marqueur-Administratif"
ROLES = tuple(roles.ROLE_PERMISSIONS)


@dataclass(frozen=True)
class Route:
    """One pattern of the resolver, by its namespaced name."""

    name: str
    pattern: str
    callback: Callable

    @property
    def face(self) -> str:
        return self.name.split(":", 1)[0]


def routes() -> list[Route]:
    """Every URL pattern of the project, walked from the root resolver."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else ""
                yield Route(name, prefix + str(pattern.pattern), pattern.callback)

    return list(walk(get_resolver().url_patterns, "/", ""))


def attribute(callback: Callable, name: str, default: Any = None) -> Any:
    """An attribute set by ``staff_view`` on the view, through the decorators around it."""
    while callback is not None:
        if hasattr(callback, name):
            return getattr(callback, name)
        callback = getattr(callback, "__wrapped__", None) or getattr(callback, "view_class", None)
    return default


def cases() -> dict[str, Case]:
    return {name: entry for name, entry in registry().items() if isinstance(entry, Case)}


def exemptions() -> dict[str, Exemption]:
    return {name: entry for name, entry in registry().items() if isinstance(entry, Exemption)}


class World:
    def __init__(self, alice, dave, bob, charlie) -> None:
        self.alice, self.dave, self.bob, self.charlie = alice, dave, bob, charlie
        self._made: dict = {}
        self._staff = {"dpo": bob, "relation_adherent": charlie}
        person = alice.person
        person.address_line1 = CONTACT_MARKER
        person.scheme_organisation = ADMINISTRATIVE_MARKER
        person.save()

    def get(self, key, factory: Callable[[World], Any]) -> Any:
        if key not in self._made:
            self._made[key] = factory(self)
        return self._made[key]

    def staff(self, role: str) -> User:
        """The staff account of ``role`` that requests pages."""
        if role not in self._staff:
            self._staff[role] = self._new_staff(role, f"{role.replace('_', '-')}@suite.example")
        return self._staff[role]

    def target(self, role: str) -> User:
        """A staff account that the staff-administration pages act on (never a requester)."""
        return self.get(
            ("target", role), lambda w: self._new_staff(role, f"cible-{role}@suite.example")
        )

    @property
    def second_admin(self) -> User:
        return self.get("second_admin", lambda w: self._new_staff("admin", "admin-2@suite.example"))

    def _new_staff(self, role: str, email: str) -> User:
        user = User.objects.create_user(
            email=email, password=PASSWORD, kind=UserKind.STAFF, role=role, display_name=email
        )
        give_device(user)
        return user

    # --- Clients --------------------------------------------------------------------------
    def client_as(self, who: str, *, reauthenticated: bool = True, **options) -> Client:
        """A fresh client: ``anonymous``, ``member`` (alice), or a role of the role table."""
        client = Client(**options)
        if who == "member":
            client.force_login(self.alice.account)
        elif who != "anonymous":
            login_verified(client, self.staff(who), reauthenticated=reauthenticated)
        return client

    def url(self, case: Case, *, owner=None) -> str:
        if case.owned is not None:
            return reverse(case.name, kwargs=case.owned(owner or self.alice, self))
        return reverse(case.name, kwargs=case.kwargs(self) if case.kwargs else None)

    # --- What each category of alice's data looks like on a page ------------------------------
    def markers(self) -> dict[str, list[str]]:
        from mutualis.contact.testing import COMPLAINT_MARKER, CORRESPONDENCE_MARKER
        from mutualis.rights.testing import RIGHTS_MARKER

        person = self.alice.person
        ibans = [m.iban for m in Mandate.objects.filter(member=self.alice)]
        return {
            catalogue.CONTACT.code: [CONTACT_MARKER],
            catalogue.ADMINISTRATIVE.code: [
                ADMINISTRATIVE_MARKER,
                person.nir,
                mask_nir(person.nir),
            ],
            catalogue.BANK.code: [*ibans, *(mask_iban(iban) for iban in ibans)],
            catalogue.CONTRACT_DATA.code: [c.number for c in self.alice.contracts.all()],
            catalogue.CORRESPONDENCE.code: [CORRESPONDENCE_MARKER],
            catalogue.COMPLAINT.code: [COMPLAINT_MARKER],
            catalogue.RIGHTS_REQUEST.code: [RIGHTS_MARKER],
        }
