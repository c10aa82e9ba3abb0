"""Django's SMTP backend, told where a message was when a connection broke.

A campaign must never reach anyone twice. The one moment an SMTP client cannot know whether
the server took a message is between sending its text and reading the server's reply (RFC 5321
§ 4.1.1.4; the "duplicate messages" of RFC 1047). :class:`TrackedSMTP` records the phase of the
message in flight, so that the sender can tell a failure before that moment (the message did not
leave: try again later) from one during it (it may have left: record it as unconfirmed, never
send it again).
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"

IDLE = "idle"
ENVELOPE = "envelope"  # MAIL FROM / RCPT TO: refused or broken here, the message did not leave
DATA = "data"  # the text is on its way: a break here leaves its fate unknown


class _Tracking:
    phase = IDLE

    def mail(self, *args, **kwargs):
        self.phase = ENVELOPE
        return super().mail(*args, **kwargs)

    def data(self, msg):
        self.phase = DATA
        reply = super().data(msg)
        self.phase = IDLE
        return reply

    def rset(self):
        self.phase = IDLE
        return super().rset()


class TrackedSMTP(_Tracking, smtplib.SMTP):
    pass


class TrackedSMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


class CampaignSMTPBackend(EmailBackend):
    """The SMTP backend of the settings, over a connection that tracks its phase."""

    @property
    def connection_class(self):
        return TrackedSMTPSSL if self.use_ssl else TrackedSMTP

    @property
    def phase(self) -> str:
        return getattr(self.connection, "phase", IDLE)


def campaign_connection():
    """The mail connection campaigns use: the settings' backend, tracked when it is SMTP."""
    backend = settings.EMAIL_BACKEND
    if backend == DJANGO_SMTP:
        backend = f"{CampaignSMTPBackend.__module__}.{CampaignSMTPBackend.__qualname__}"
    return get_connection(backend, fail_silently=False)


def phase_of(connection) -> str:
    """Where the message in flight was; ``IDLE`` for backends that do not say (no network)."""
    return getattr(connection, "phase", IDLE)
