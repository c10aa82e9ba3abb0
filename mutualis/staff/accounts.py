"""Staff administration (the *admin* service): invite, set the password, change the service,
deactivate and reactivate; and the end of a departed staff member's account.

Granting the DPO or admin role (by invitation, change or reactivation) is not done here but
requested, and done once a second administrator approves it (``staff.approvals``). No act may
leave the mutuelle without an active administrator. Every act is written to the audit log, and
staff security acts to the security log too, in the same transaction.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from mutualis import audit
from mutualis.members import roles
from mutualis.members.models import User, UserKind
from mutualis.privacy import catalogue
from mutualis.privacy.models import LegalHold
from mutualis.staff import approvals, factors
from mutualis.staff.acts import reactivate_now, record_of, security_event
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.invitations import LinkBuilder, invitation_link, send_invitation
from mutualis.staff.models import Approval, ApprovalKind, StaffAccount
from mutualis.staff.tags import StaffTag

ADMIN_ROLE = catalogue.SERVICE_ADMIN.code
# Roles whose grant needs a second administrator (four eyes).
PRIVILEGED_ROLES = frozenset({catalogue.SERVICE_DPO.code, catalogue.SERVICE_ADMIN.code})
ROLE_CODES = frozenset(code for code, _label in roles.ROLE_CHOICES)

LAST_ADMIN = (
    "La mutuelle doit garder au moins un administrateur actif : nommez-en un autre avant de "
    "désactiver ou de changer le service de ce compte."
)
NOT_YOURSELF = "Un autre administrateur doit faire ce changement sur votre propre compte."


def staff_accounts() -> QuerySet[User]:
    return User.objects.filter(kind=UserKind.STAFF)


def active_admins() -> QuerySet[User]:
    return staff_accounts().filter(role=ADMIN_ROLE, is_active=True)


def _check_role(role: str) -> None:
    if role not in ROLE_CODES:
        raise StaffActionRefused("Choisissez un service de la liste.")


def _lock_admins_then(account: User) -> tuple[User, list[int]]:
    """Lock the active administrators' rows (in one order, before any other row), then the
    account acted on: two administrators removing each other at once are serialised, never
    deadlocked, and the second one sees the first one's change."""
    admins = list(active_admins().select_for_update().order_by("pk").values_list("pk", flat=True))
    return User.objects.select_for_update().get(pk=account.pk, kind=UserKind.STAFF), admins


def _keep_an_admin(account: User, admins: list[int]) -> None:
    """Refuse to take the last active administrator away."""
    if account.pk in admins and len(admins) <= 1:
        raise StaffActionRefused(LAST_ADMIN)


def invite(
    *,
    email: str,
    display_name: str,
    role: str,
    actor: User | None,
    link_for: LinkBuilder,
    address: str = "",
) -> tuple[User, Approval | None]:
    """Open a staff account and e-mail its single-use, expiring link to choose a password.

    For the DPO or admin role the account is opened without a service and the invitation waits
    for a second administrator's approval (``staff.approvals``), which sends it. ``actor`` is
    ``None`` only for the first administrator, created from the command line.
    """
    _check_role(role)
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise StaffActionRefused("Un compte existe déjà avec cette adresse électronique.")
        privileged = role in PRIVILEGED_ROLES and actor is not None
        account = User.objects.create_user(
            email=email,
            password=None,
            kind=UserKind.STAFF,
            role="" if privileged else role,
            display_name=display_name.strip(),
        )
        now = timezone.now()
        StaffAccount.objects.create(
            account=account, invited_at=None if privileged else now, invited_by=actor
        )
        audit.record(
            StaffTag.INVITE,
            actor=actor or "system",
            target=account,
            details={"role": role, "awaits_approval": privileged},
        )
        security_event(StaffTag.INVITE, actor=actor or "system", account=account, address=address)
        approval = None
        if privileged:
            approval = approvals.request(
                kind=ApprovalKind.ROLE_GRANT, account=account, role=role, actor=actor, reason=""
            )
        else:
            link = invitation_link(account, link_for)
            transaction.on_commit(lambda: send_invitation(account, link))
    return account, approval


def send_new_invitation(
    *, account: User, actor: User, link_for: LinkBuilder, address: str = ""
) -> None:
    """A new link for an account whose password is not chosen yet; the previous one stops
    working (a new unusable password changes what the token is derived from)."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk)
        if account.has_usable_password():
            raise StaffActionRefused("Ce compte a déjà choisi son mot de passe.")
        if not account.is_active or not account.role:
            raise StaffActionRefused("Ce compte n'est pas actif ou n'a pas encore de service.")
        account.set_unusable_password()
        account.save(update_fields=["password"])
        record = record_of(account)
        record.invited_at = timezone.now()
        record.save(update_fields=["invited_at"])
        audit.record(StaffTag.INVITATION_RESEND, actor=actor, target=account)
        security_event(StaffTag.INVITATION_RESEND, actor=actor, account=account, address=address)
        link = invitation_link(account, link_for)
        transaction.on_commit(lambda: send_invitation(account, link))


def accept_invitation(*, account: User, password: str) -> User:
    """The invited staff member chooses a password (validated by the caller's form); the link is
    spent with it. The second factor comes next, before anything else (the face's enrolment)."""
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk)
        account.set_password(password)
        account.save(update_fields=["password"])
        record = record_of(account)
        record.password_set_at = timezone.now()
        record.save(update_fields=["password_set_at"])
        audit.record(StaffTag.PASSWORD_SET, actor=account, target=account)
    return account


def change_role(*, account: User, role: str, actor: User, address: str = "") -> Approval | None:
    """Move a staff member to another service; to DPO or admin, only once a second
    administrator approves (the request is returned)."""
    _check_role(role)
    if account.pk == actor.pk:
        raise StaffActionRefused(NOT_YOURSELF)
    with transaction.atomic():
        account, admins = _lock_admins_then(account)
        if account.role == role:
            raise StaffActionRefused("Ce compte est déjà rattaché à ce service.")
        if role in PRIVILEGED_ROLES:
            return approvals.request(
                kind=ApprovalKind.ROLE_GRANT, account=account, role=role, actor=actor, reason=""
            )
        _keep_an_admin(account, admins)
        previous = account.role
        account.role = role
        account.save(update_fields=["role"])
        audit.record(
            StaffTag.ROLE_CHANGE,
            actor=actor,
            target=account,
            details={"from": previous, "to": role},
        )
        security_event(StaffTag.ROLE_CHANGE, actor=actor, account=account, address=address, to=role)
    return None


def deactivate(*, account: User, actor: User, address: str = "") -> None:
    """The staff member leaves or is suspended: they can no longer log in (their sessions end at
    their next request), and the account's retention clock starts."""
    if account.pk == actor.pk:
        raise StaffActionRefused(NOT_YOURSELF)
    with transaction.atomic():
        account, admins = _lock_admins_then(account)
        if not account.is_active:
            raise StaffActionRefused("Ce compte est déjà désactivé.")
        _keep_an_admin(account, admins)
        account.is_active = False
        account.save(update_fields=["is_active"])
        record = record_of(account)
        record.deactivated_at = timezone.now()
        record.save(update_fields=["deactivated_at"])
        approvals.cancel_all(account=account, actor=actor)
        audit.record(StaffTag.DEACTIVATE, actor=actor, target=account)
        security_event(StaffTag.DEACTIVATE, actor=actor, account=account, address=address)


def reactivate(*, account: User, actor: User, address: str = "") -> Approval | None:
    """Let a deactivated account log in again; an account of the DPO or admin service comes
    back only once a second administrator approves (the request is returned)."""
    if account.pk == actor.pk:
        raise StaffActionRefused(NOT_YOURSELF)
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk, kind=UserKind.STAFF)
        if account.is_active:
            raise StaffActionRefused("Ce compte est déjà actif.")
        record = record_of(account)
        if record.anonymised_at is not None:
            raise StaffActionRefused("Ce compte a été anonymisé : invitez à nouveau la personne.")
        if account.role in PRIVILEGED_ROLES:
            return approvals.request(
                kind=ApprovalKind.ROLE_GRANT,
                account=account,
                role=account.role,
                actor=actor,
                reason="réactivation",
            )
        reactivate_now(account, actor=actor, address=address)
    return None


# --- Retention: a departed staff member's account ------------------------------------------------
ANONYMOUS_DOMAIN = "compte-anonymise.invalid"


def end_departed_accounts(
    *, before: datetime.datetime, batch_size: int, dry_run: bool
) -> tuple[int, int]:
    """The retention handler of ``staff.StaffAccount``: accounts deactivated before ``before``
    are anonymised (address, name and password replaced, second factor removed), keeping the row
    so that the audit log's ``user:<id>`` keeps pointing at one account. Legal holds apply."""
    held = {
        target.split(":", 1)[1]
        for target in LegalHold.objects.active()
        .filter(target__startswith="staff.staffaccount:")
        .values_list("target", flat=True)
    }
    due = StaffAccount.objects.filter(
        deactivated_at__lt=before, anonymised_at__isnull=True, account__is_active=False
    ).exclude(pk__in=[int(pk) for pk in held if pk.isdigit()])
    if dry_run:
        return due.count(), 0
    rows = batches = 0
    while True:
        with transaction.atomic():
            batch = list(due.select_for_update().order_by("pk")[:batch_size])
            if not batch:
                break
            now = timezone.now()
            for record in batch:
                account = User.objects.select_for_update().get(pk=record.pk)
                account.email = f"personnel-{account.pk}@{ANONYMOUS_DOMAIN}"
                account.display_name = ""
                account.set_unusable_password()
                account.save(update_fields=["email", "display_name", "password"])
                factors.remove_second_factor(account)
                record.anonymised_at = now
                record.save(update_fields=["anonymised_at"])
            audit.record(StaffTag.ANONYMISE, details={"rows": len(batch), "batch": batches + 1})
        rows += len(batch)
        batches += 1
    return rows, batches
