"""E-mails the member space sends, in French."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


def notify_login_address_changed(*, old_email: str) -> None:
    """Tell the previous address that the login address changed, so that a member whose account
    was taken over learns it. The new address is not written in the message."""
    context = {
        "organisation": settings.MUTUALIS_ORGANISATION,
        "site_url": settings.MUTUALIS_SITE_URL.rstrip("/"),
    }
    send_mail(
        subject="Votre adresse de connexion a été modifiée",
        message=render_to_string("portal/email/login_address_changed.txt", context),
        from_email=None,
        recipient_list=[old_email],
    )
