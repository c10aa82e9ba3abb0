"""Staff roles, one per internal service, and their permissions (``scope:resource:action``).

The categories of data a role may see are not listed here: they come from the declaration
(``privacy.catalogue.ALL_SERVICES``), so the policy's "internal services" and the back office's
access rules are one and the same list.
"""

from __future__ import annotations

import enum

from mutualis.audit.tags import validate_tag
from mutualis.privacy import catalogue
from mutualis.privacy.declaration import Category, InternalService


class Permission(enum.StrEnum):
    def __init__(self, value: str) -> None:
        validate_tag(value)  # same scope:resource:action shape as audit tags

    MEMBER_SEARCH = "members:member:search"
    MEMBER_VIEW = "members:member:view"
    NIR_REVEAL = "members:nir:reveal"
    IBAN_REVEAL = "billing:iban:reveal"
    STAFF_VIEW = "members:staff:view"
    STAFF_MANAGE = "members:staff:manage"
    REGISTER_VIEW = "privacy:register:view"
    AUDIT_VIEW = "audit:event:view"


_SERVICES = {service.code: service for service in catalogue.ALL_SERVICES}
ROLE_CHOICES = [(service.code, service.label) for service in catalogue.ALL_SERVICES]

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    catalogue.SERVICE_GESTION.code: frozenset(
        {Permission.MEMBER_SEARCH, Permission.MEMBER_VIEW, Permission.NIR_REVEAL}
    ),
    catalogue.SERVICE_COTISATIONS.code: frozenset(
        {Permission.MEMBER_SEARCH, Permission.MEMBER_VIEW, Permission.IBAN_REVEAL}
    ),
    catalogue.SERVICE_RELATION.code: frozenset({Permission.MEMBER_SEARCH, Permission.MEMBER_VIEW}),
    catalogue.SERVICE_RECLAMATIONS.code: frozenset(
        {Permission.MEMBER_SEARCH, Permission.MEMBER_VIEW}
    ),
    catalogue.SERVICE_DPO.code: frozenset(
        {
            Permission.MEMBER_SEARCH,
            Permission.MEMBER_VIEW,
            Permission.NIR_REVEAL,
            Permission.IBAN_REVEAL,
            Permission.REGISTER_VIEW,
            Permission.AUDIT_VIEW,
            Permission.STAFF_VIEW,
        }
    ),
    catalogue.SERVICE_ADMIN.code: frozenset({Permission.STAFF_VIEW, Permission.STAFF_MANAGE}),
}


def service_for(role: str) -> InternalService | None:
    return _SERVICES.get(role)


def role_has_permission(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def visible_categories(role: str) -> frozenset[Category]:
    service = service_for(role)
    return service.categories if service else frozenset()
