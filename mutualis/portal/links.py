"""Absolute links into the member space, for the e-mails domain services send.

A domain module never names a face: the faces pass these functions to the services that need a
link (``contracts.services.subscribe(activation_link=…)``, ``rights.processing.process(links=…)``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mutualis.rights.processing import RequestLinks


def absolute(path: str) -> str:
    return settings.MUTUALIS_SITE_URL.rstrip("/") + path


def activation_link(account) -> str:
    """A single-use link (the token changes once a password is set) that expires after
    ``PASSWORD_RESET_TIMEOUT``: where a new member chooses their password."""
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    token = default_token_generator.make_token(account)
    return absolute(reverse("portal:activate", args=[uid, token]))


def rights_request_link(request) -> str:
    """The member-space page of a rights request (where an access copy is downloaded)."""
    return absolute(reverse("portal:rights_request", args=[request.pk]))


RIGHTS_LINKS = RequestLinks(request_page=rights_request_link)
