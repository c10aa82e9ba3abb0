"""The second factor's recovery codes, and its reset.

Ten single-use codes are issued when a staff member enrols their authenticator app; they are
shown once and only a keyed hash of each is kept (HMAC-SHA256 under the secret key: the codes
are random, so a slow password hash would add nothing but cost). Using one is audited and
removes the TOTP device: the staff member then enrols an app again, and gets new codes.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis import audit
from mutualis.audit.security import record_security_event
from mutualis.members.models import User
from mutualis.staff.models import RecoveryCode
from mutualis.staff.tags import StaffTag

RECOVERY_CODE_COUNT = 10
# Unambiguous characters (no 0/O, 1/I/L): 10 of 31 symbols, about 50 bits per code.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 10
_SALT = "mutualis.staff.factors.recovery-code"


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def digest(code: str) -> str:
    return salted_hmac(_SALT, _normalise(code), algorithm="sha256").hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def codes_left(account: User) -> int:
    return RecoveryCode.objects.filter(account=account, used_at__isnull=True).count()


def issue_recovery_codes(*, account: User) -> list[str]:
    """Replace the account's recovery codes by ten new ones, returned in clear this once."""
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(account=account).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(account=account, digest=digest(code)) for code in codes
        )
        audit.record(
            StaffTag.RECOVERY_ISSUE, actor=account, target=account, details={"count": len(codes)}
        )
    return codes


def use_recovery_code(*, account: User, code: str, address: str = "") -> bool:
    """Spend one recovery code instead of the app's code, at login.

    The code is spent, the TOTP devices are removed (the phone is presumed lost) and the use is
    written to the audit and security logs; the caller then sends the staff member to enrol an
    app again. A wrong code changes nothing (the caller counts it as a failed login).
    """
    with transaction.atomic():
        found = (
            RecoveryCode.objects.select_for_update()
            .filter(account=account, digest=digest(code), used_at__isnull=True)
            .first()
        )
        if found is None:
            return False
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
        TOTPDevice.objects.filter(user=account).delete()
        left = codes_left(account)
        audit.record(StaffTag.RECOVERY_USE, actor=account, target=account, details={"left": left})
        record_security_event(
            StaffTag.RECOVERY_USE, address=address, actor=account, details={"left": left}
        )
    return True


def remove_second_factor(account: User) -> None:
    """Inside the caller's transaction: the account's devices and codes go; the next login
    leads to enrolment."""
    TOTPDevice.objects.filter(user=account).delete()
    RecoveryCode.objects.filter(account=account).delete()


def factor_status(account: User) -> dict:
    """What the staff list shows of an account's second factor."""
    device = TOTPDevice.objects.filter(user=account, confirmed=True).order_by("pk").first()
    return {
        "enrolled": device is not None,
        "codes_left": codes_left(account) if device else 0,
    }
