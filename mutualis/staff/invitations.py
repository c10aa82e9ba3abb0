"""The invitation link: single-use (it is derived from the password hash, which changes once a
password is chosen) and expiring (``PASSWORD_RESET_TIMEOUT``), Django's signed token with a salt
of its own, so that no other kind of link can stand in for it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mutualis.members import roles
from mutualis.members.models import User

# Builds the absolute link of the invitation page from (uidb64, token): the face passes it in.
LinkBuilder = Callable[[str, str], str]


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "mutualis.staff.invitations.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


def invitation_link(account: User, link_for: LinkBuilder) -> str:
    return link_for(
        urlsafe_base64_encode(force_bytes(account.pk)), invitation_tokens.make_token(account)
    )


def validity_hours() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 3600


def send_invitation(account: User, link: str) -> None:
    service = roles.service_for(account.role)
    context = {
        "account": account,
        "service": service.label if service else "",
        "link": link,
        "hours": validity_hours(),
        "organisation": settings.MUTUALIS_ORGANISATION,
    }
    send_mail(
        subject="Votre compte de gestion interne — choisissez votre mot de passe",
        message=render_to_string("staff/email/invitation.txt", context),
        from_email=None,
        recipient_list=[account.email],
    )
