"""Demo data: one staff account per internal service, each with a confirmed TOTP device.

The TOTP secrets are fixed (derived from the role code) so that a demo login is reproducible:
add the printed key to any authenticator app, or print the current code with
``DEBUG=1 manage.py demo_totp <e-mail>``. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import hashlib
from base64 import b32encode
from binascii import unhexlify

from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.lib.demo import DemoLogin, site_url
from mutualis.members.models import User, UserKind
from mutualis.privacy import catalogue

DEMO_PASSWORD = "Demo-personnel-2026"
DEMO_DEVICE_NAME = "Démonstration"
LOGIN_PATH = "/gestion/connexion/"


def demo_email(role: str) -> str:
    return f"{role.replace('_', '-')}@mutuelle.example"


def demo_key(role: str) -> str:
    """A fixed 20-byte TOTP key (hex, as django-otp stores it), for demo accounts only."""
    return hashlib.sha1(f"mutualis-demo-totp:{role}".encode(), usedforsecurity=False).hexdigest()


def base32_secret(hex_key: str) -> str:
    return b32encode(unhexlify(hex_key)).decode()


# A second administrator, so that the four-eyes approvals (factor resets, privileged roles) can
# be tried: one asks, the other approves.
SECOND_ADMIN = "admin-2"


def _key_name(user: User) -> str:
    return SECOND_ADMIN if user.email == demo_email(SECOND_ADMIN) else user.role


def is_demo_device(device: TOTPDevice) -> bool:
    return device.name == DEMO_DEVICE_NAME and device.key == demo_key(_key_name(device.user))


def load() -> list[DemoLogin]:
    logins = []
    accounts = [(service, service.code) for service in catalogue.ALL_SERVICES]
    accounts.append((catalogue.SERVICE_ADMIN, SECOND_ADMIN))
    for service, name in accounts:
        email = demo_email(name)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                kind=UserKind.STAFF,
                role=service.code,
                display_name=f"Démo {service.label}",
            )
        TOTPDevice.objects.get_or_create(
            user=user,
            name=DEMO_DEVICE_NAME,
            defaults={"key": demo_key(name), "confirmed": True},
        )
        logins.append(
            DemoLogin(
                role=f"Personnel — {service.label}",
                url=site_url(LOGIN_PATH),
                login=email,
                password=DEMO_PASSWORD,
                extra=f"clé TOTP {base32_secret(demo_key(name))} ; "
                f"code du moment : manage.py demo_totp {email}",
            )
        )
    return logins
