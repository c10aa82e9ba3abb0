"""Invite a member of staff from the command line: the way to open the first administrator's
account on a new installation (afterwards, administrators invite from the back office)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from mutualis.backoffice.auth.invitation import invitation_url
from mutualis.members import roles
from mutualis.staff import accounts
from mutualis.staff.errors import StaffActionRefused


class Command(BaseCommand):
    help = (
        "Invite un membre du personnel (lien à usage unique par courriel) ; sert à créer le "
        "premier administrateur."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse électronique du nouveau compte")
        parser.add_argument("--name", required=True, help="prénom et nom")
        parser.add_argument(
            "--role",
            required=True,
            choices=[code for code, _ in roles.ROLE_CHOICES],
            help="service du personnel invité (son rôle)",
        )

    def handle(self, *args, email: str, name: str, role: str, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError("Adresse électronique invalide.") from None
        if role in accounts.PRIVILEGED_ROLES and accounts.active_admins().exists():
            raise CommandError(
                "Un administrateur existe déjà : ce rôle s'attribue depuis la gestion interne, "
                "avec l'accord d'un second administrateur."
            )
        try:
            with transaction.atomic():
                account, _ = accounts.invite(
                    email=email, display_name=name, role=role, actor=None, link_for=invitation_url
                )
        except StaffActionRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"Invitation envoyée à {account.email} (service : {role}).")
