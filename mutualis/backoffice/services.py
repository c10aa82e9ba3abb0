"""Back-office acts that write: staff second factor, staff logins, audited reads.

Each function runs in one transaction with its audit event (architecture.md §9: the audit entry
is never optional, never rebuilt in a view). None of them takes or returns HTTP objects.
"""

from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis import audit
from mutualis.audit.security import record_security_event
from mutualis.backoffice.tags import BackofficeTag
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.members.tags import MembersTag
from mutualis.privacy.declaration import Category

DEVICE_NAME = "Application d'authentification"
SPACE = "gestion"


def confirmed_device(user: User) -> TOTPDevice | None:
    """The staff member's confirmed TOTP device (the oldest, if several)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def start_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device a staff member is enrolling, created with a fresh secret if none.

    Reusing the pending device keeps the secret stable while the person sets up their app;
    it only becomes a second factor once :func:`confirm_device` has seen a valid code from it.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def confirm_device(*, device: TOTPDevice, token: str, address: str = "") -> bool:
    """Confirm a new TOTP device once the staff member has typed a valid code from it.

    A wrong code counts against the device's throttling (django-otp) and confirms nothing.
    architecture.md §5: staff log in with a second factor (TOTP). A staff security action: it
    goes to the security log too, with the client's network (``address``), in the same
    transaction.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        if device.confirmed:
            return False
        if not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        audit.record(
            MembersTag.STAFF_DEVICE_CONFIRM,
            actor=device.user,
            target=device,
            details={"kind": "totp"},
        )
        record_security_event(
            MembersTag.STAFF_DEVICE_CONFIRM,
            address=address,
            actor=device.user,
            details={"kind": "totp"},
        )
    return True


def verify_login_code(*, device: TOTPDevice, token: str) -> bool:
    """Check the second factor at login; a failure is audited (the password was right)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        if device.verify_token(token):
            return True
        audit.record(
            MembersTag.ACCOUNT_LOGIN_FAILED,
            actor=device.user,
            details={"space": SPACE, "step": "totp"},
        )
    return False


def record_login(*, user: User) -> None:
    with transaction.atomic():
        audit.record(
            MembersTag.ACCOUNT_LOGIN,
            actor=user,
            details={"space": SPACE, "second_factor": "totp"},
        )


def record_logout(*, user: User) -> None:
    with transaction.atomic():
        audit.record(MembersTag.ACCOUNT_LOGOUT, actor=user, details={"space": SPACE})


def record_member_view(*, member: Member, actor: User, categories: frozenset[Category]) -> None:
    """Opening a member's record is a sensitive read (architecture.md §5), audited with the
    categories the viewer was shown."""
    with transaction.atomic():
        audit.record(
            BackofficeTag.MEMBER_VIEW,
            actor=actor,
            subject=member.person_id,
            target=member,
            details={"categories": sorted(category.code for category in categories)},
        )


def find_members_by_nir(*, nir: str, actor: User) -> list[Member]:
    """Exact NIR lookup through the blind index, audited without the NIR.

    The NIR is never a join key, never in a URL or a log. The encrypted column is never
    queried; the person found may be a member or a beneficiary, and the members concerned are
    returned either way.
    """
    with transaction.atomic():
        person = Person.objects.with_nir(nir).first()
        members: list[Member] = []
        if person is not None:
            # A union of two key lookups: an OR across the join would scan every member.
            concerned = (
                Member.objects.filter(person=person)
                .values("pk")
                .union(Beneficiary.objects.filter(person=person).order_by().values("member_id"))
            )
            members = list(
                Member.objects.visible_to(actor)
                .filter(pk__in=concerned)
                .select_related("person")
                .order_by("number")
            )
        audit.record(
            BackofficeTag.NIR_SEARCH,
            actor=actor,
            subject=person,
            details={"found": len(members)},
        )
    return members
