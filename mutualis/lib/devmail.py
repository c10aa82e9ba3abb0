"""Development e-mail: each message sent is written as one readable ``.eml`` file.

``make run`` uses this backend (``DEBUG`` on): nothing is sent, nothing is printed in the middle
of the demo logins, and each e-mail (activation links, rights answers, notices) is a file under
``var/mail/`` that a text editor shows as it reads (headers decoded, UTF-8) and a mail client
opens with a double click. Never used in production: the settings pick it only in development.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import threading
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

_counter = itertools.count(1)
_lock = threading.Lock()


def mail_dir() -> Path:
    return Path(settings.MUTUALIS_DEV_MAIL_DIR)


def _slug(text: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:40] or "courriel"


def readable(message) -> bytes:
    """The message as an ``.eml`` file whose headers are plain UTF-8 (RFC 6532), not RFC 2047
    encoded words; the body is left as sent."""
    raw = message.message().as_bytes(linesep="\n")
    head, _, body = raw.partition(b"\n\n")
    parsed = email.message_from_bytes(head + b"\n\n", policy=email.policy.default)
    lines = [f"{name}: {' '.join(str(value).split())}" for name, value in parsed.items()]
    return "\n".join(lines).encode() + b"\n\n" + body


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _lock:
                number = next(_counter)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            to = _slug(",".join(message.to))
            path = folder / f"{stamp}-{number:04d}-{to}.eml"
            path.write_bytes(readable(message))
            sent += 1
        return sent
