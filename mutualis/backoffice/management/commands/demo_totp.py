"""Print the current TOTP code of a demo staff account (development only).

Demo accounts (``backoffice.demo``) have fixed TOTP keys; this saves installing an authenticator
app to try the back office. It refuses to run without ``DEBUG`` and for any device that is not
a demo one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.backoffice.demo import DEMO_DEVICE_NAME, is_demo_device


class Command(BaseCommand):
    help = "Affiche le code TOTP du moment d'un compte de démonstration (DEBUG uniquement)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="adresse du compte de démonstration")

    def handle(self, *args, email: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Commande réservée à la démonstration : lancez-la avec DEBUG=1.")
        device = (
            TOTPDevice.objects.select_related("user")
            .filter(user__email__iexact=email, name=DEMO_DEVICE_NAME, confirmed=True)
            .first()
        )
        if device is None or not is_demo_device(device):
            raise CommandError(f"Aucun compte de démonstration pour {email}.")
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
