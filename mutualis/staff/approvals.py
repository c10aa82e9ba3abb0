"""Four eyes: an act that one administrator requests and a different one approves.

Resetting a staff member's second factor and granting the DPO or admin role wait here as a
pending :class:`~mutualis.staff.models.Approval`; another administrator (neither the one who
asked nor the account concerned) approves it, which applies the act in the same transaction,
or refuses it. Requests expire after a week. Every step is audited.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualis import audit
from mutualis.members.models import User
from mutualis.staff import acts
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.invitations import LinkBuilder
from mutualis.staff.models import APPROVAL_VALIDITY, Approval, ApprovalKind, ApprovalStatus
from mutualis.staff.tags import StaffTag

_DECISION_TAGS = {
    ApprovalStatus.APPROVED: StaffTag.APPROVAL_APPROVE,
    ApprovalStatus.REJECTED: StaffTag.APPROVAL_REJECT,
    ApprovalStatus.CANCELLED: StaffTag.APPROVAL_CANCEL,
    ApprovalStatus.EXPIRED: StaffTag.APPROVAL_EXPIRE,
}
SAME_PERSON = (
    "Une demande doit être approuvée par un autre administrateur que son auteur et que la "
    "personne concernée."
)


def request(*, kind: str, account: User, actor: User, role: str = "", reason: str = "") -> Approval:
    """Record a pending request (inside the caller's transaction when there is one)."""
    if kind == ApprovalKind.FACTOR_RESET and account.pk == actor.pk:
        raise StaffActionRefused(
            "Un autre administrateur doit demander la réinitialisation de votre double "
            "authentification."
        )
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                kind=kind,
                account=account,
                role=role,
                reason=reason.strip()[:500],
                requested_by=actor,
                expires_at=timezone.now() + APPROVAL_VALIDITY,
            )
            audit.record(
                StaffTag.APPROVAL_REQUEST,
                actor=actor,
                target=account,
                details={"approval": approval.pk, "kind": kind, "role": role},
            )
    except IntegrityError:
        raise StaffActionRefused(
            "Une demande de même nature attend déjà l'approbation d'un autre administrateur pour "
            "ce compte."
        ) from None
    return approval


def request_factor_reset(*, account: User, actor: User, reason: str) -> Approval:
    if not reason.strip():
        raise StaffActionRefused("Indiquez le motif de la réinitialisation.")
    return request(kind=ApprovalKind.FACTOR_RESET, account=account, actor=actor, reason=reason)


def _decide(approval: Approval, status: str) -> Approval:
    """The pending request, locked, if it may still move to ``status``."""
    approval = Approval.objects.select_for_update().select_related("account").get(pk=approval.pk)
    if not approval.can_move_to(status):
        raise StaffActionRefused("Cette demande a déjà été traitée.")
    if approval.is_expired():
        raise StaffActionRefused("Cette demande a expiré : elle doit être présentée à nouveau.")
    return approval


def _move(approval: Approval, status: str, *, actor: User | None) -> None:
    approval.status = status
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        _DECISION_TAGS[status],
        actor=actor or "system",
        target=approval.account,
        details={"approval": approval.pk, "kind": approval.kind},
    )


def approve(
    *, approval: Approval, actor: User, link_for: LinkBuilder, address: str = ""
) -> Approval:
    """A second administrator approves: the act is applied now, in this transaction."""
    with transaction.atomic():
        approval = _decide(approval, ApprovalStatus.APPROVED)
        if actor.pk in (approval.requested_by_id, approval.account_id):
            raise StaffActionRefused(SAME_PERSON)
        account = User.objects.select_for_update().get(pk=approval.account_id)
        if approval.kind == ApprovalKind.FACTOR_RESET:
            acts.reset_second_factor(account, actor=actor, address=address)
        else:
            acts.grant_role(
                account, role=approval.role, actor=actor, link_for=link_for, address=address
            )
        _move(approval, ApprovalStatus.APPROVED, actor=actor)
    return approval


def reject(*, approval: Approval, actor: User) -> Approval:
    with transaction.atomic():
        approval = _decide(approval, ApprovalStatus.REJECTED)
        if actor.pk == approval.account_id:
            raise StaffActionRefused(SAME_PERSON)
        _move(
            approval,
            ApprovalStatus.CANCELLED
            if actor.pk == approval.requested_by_id
            else ApprovalStatus.REJECTED,
            actor=actor,
        )
    return approval


def cancel_all(*, account: User, actor: User) -> None:
    """Inside the caller's transaction: a deactivated account's pending requests are withdrawn."""
    for approval in Approval.objects.pending().select_for_update().filter(account=account):
        _move(approval, ApprovalStatus.CANCELLED, actor=actor)


def expire_overdue() -> int:
    """Mark pending requests past their date as expired (shown as such, never approvable)."""
    count = 0
    with transaction.atomic():
        for approval in (
            Approval.objects.pending().select_for_update().filter(expires_at__lte=timezone.now())
        ):
            _move(approval, ApprovalStatus.EXPIRED, actor=None)
            count += 1
    return count
