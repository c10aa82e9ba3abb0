"""The acts that both a direct request and an approved one apply, inside the caller's
transaction (``staff.accounts``, ``staff.approvals``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.audit.security import record_security_event
from mutualis.members.models import User
from mutualis.staff import factors
from mutualis.staff.invitations import LinkBuilder, invitation_link, send_invitation
from mutualis.staff.models import StaffAccount
from mutualis.staff.tags import StaffTag


def record_of(account: User) -> StaffAccount:
    return StaffAccount.objects.get_or_create(account=account)[0]


def security_event(kind: str, *, actor, account: User, address: str, **details) -> None:
    record_security_event(
        kind, address=address, actor=actor, details={"account": account.pk, **details}
    )


def reactivate_now(account: User, *, actor: User, address: str) -> None:
    account.is_active = True
    account.save(update_fields=["is_active"])
    record = record_of(account)
    record.deactivated_at = None
    record.save(update_fields=["deactivated_at"])
    audit.record(StaffTag.REACTIVATE, actor=actor, target=account)
    security_event(StaffTag.REACTIVATE, actor=actor, account=account, address=address)


def grant_role(
    account: User, *, role: str, actor: User, link_for: LinkBuilder, address: str
) -> None:
    """Inside an approval's transaction: give the approved role, reactivating the account or
    sending its pending invitation as needed."""
    previous = account.role
    account.role = role
    account.save(update_fields=["role"])
    audit.record(
        StaffTag.ROLE_CHANGE, actor=actor, target=account, details={"from": previous, "to": role}
    )
    security_event(StaffTag.ROLE_CHANGE, actor=actor, account=account, address=address, to=role)
    if not account.is_active:
        reactivate_now(account, actor=actor, address=address)
    record = record_of(account)
    if not account.has_usable_password() and record.invited_at is None:
        record.invited_at = timezone.now()
        record.save(update_fields=["invited_at"])
        link = invitation_link(account, link_for)
        transaction.on_commit(lambda: send_invitation(account, link))


def reset_second_factor(account: User, *, actor: User, address: str) -> None:
    """Inside an approval's transaction: the lost factor goes; the next login enrols a new one."""
    factors.remove_second_factor(account)
    audit.record(StaffTag.FACTOR_RESET, actor=actor, target=account)
    security_event(StaffTag.FACTOR_RESET, actor=actor, account=account, address=address)
