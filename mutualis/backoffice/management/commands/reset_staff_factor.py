"""Reset a staff member's lost second factor from the server's command line, when the back
office cannot do it with four eyes: the request and the approval need two administrators other
than the account concerned, each able to log in. With fewer (a single administrator who lost
both the phone and the recovery codes), the person who runs the server does it here; the next
login of the account enrols a new app. Refused whenever the pages can do it.

The reset is audited (``staff:factor:reset`` by ``system``) and written to the security log.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.members.models import User, UserKind
from mutualis.staff import accounts, acts


def able_administrators(account: User) -> int:
    """Active administrators other than ``account`` who can log in (a confirmed app)."""
    admins = accounts.active_admins().exclude(pk=account.pk)
    with_app = TOTPDevice.objects.filter(user__in=admins, confirmed=True).values("user")
    return admins.filter(pk__in=with_app).count()


class Command(BaseCommand):
    help = (
        "Réinitialise la double authentification perdue d'un membre du personnel lorsque deux "
        "autres administrateurs ne peuvent pas le faire depuis la gestion interne."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse électronique du compte concerné")

    def handle(self, *args, email: str, **options):
        account = User.objects.filter(
            email__iexact=email.strip(), kind=UserKind.STAFF, is_active=True
        ).first()
        if account is None:
            raise CommandError("Aucun compte actif du personnel n'a cette adresse électronique.")
        with transaction.atomic():
            account = User.objects.select_for_update().get(pk=account.pk)
            if able_administrators(account) >= 2:
                raise CommandError(
                    "Deux autres administrateurs peuvent le faire depuis la gestion interne "
                    "(demande puis approbation, double validation) : passez par la page du compte."
                )
            acts.reset_second_factor(account, actor="system", address="")
        self.stdout.write(
            f"Double authentification de {account.email} réinitialisée : à sa prochaine "
            "connexion, cette personne configurera une nouvelle application."
        )
