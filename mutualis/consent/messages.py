"""The e-mail a campaign sends to one recipient.

Every message of a consent-based campaign (newsletter, offers, survey) says why the person
receives it and carries a one-click unsubscribe (RFC 2369 ``List-Unsubscribe`` with the HTTPS
link of the recipient's own send-log row, and RFC 8058 ``List-Unsubscribe-Post``), which
withdraws that consent at once without logging in. Service information about the member's
contract carries a link to the preferences instead: it is not optional.

The links come from the caller (the face owns its URLs): :class:`Links`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import get_template
from django.utils import timezone

from mutualis.consent import unsubscribe
from mutualis.consent.campaigns import personalise
from mutualis.consent.models import Campaign, Topic
from mutualis.consent.models.campaigns import KIND_TOPIC

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Links:
    """Absolute URLs the messages point to, built by the face that serves them."""

    unsubscribe: Callable[[str], str]  # token -> the unsubscribe page of that send-log row
    preferences: str
    policy: str


@dataclass(frozen=True)
class Recipient:
    delivery_id: uuid.UUID
    email: str
    first_names: str
    last_name: str
    civility: str
    consent_at: datetime.datetime | None
    person_id: uuid.UUID | None = None  # none for a preview


def message_domain() -> str:
    return urlsplit(settings.MUTUALIS_SITE_URL).hostname or "localhost"


def message_id(delivery_id: uuid.UUID, domain: str) -> str:
    """The Message-ID of a send-log row's message: fixed per row, so that the outgoing mail
    server's log tells, for an *uncertain* row, whether its message left."""
    return f"<{delivery_id.hex}@{domain}>"


def from_address() -> str:
    return settings.MUTUALIS_CAMPAIGN_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def build(campaign: Campaign, recipient: Recipient, links: Links, *, connection=None):
    """The message for one recipient, ready for ``connection.send_messages``."""
    topic = KIND_TOPIC[campaign.kind]
    values = {
        "first_names": recipient.first_names,
        "last_name": recipient.last_name,
        "civility": recipient.civility,
    }
    subject = personalise(campaign.subject, **values)
    context = {
        "campaign": campaign,
        "subject": subject,
        "body": personalise(campaign.body, **values),
        "topic_label": Topic(topic).label if topic else "",
        "consent_at": timezone.localtime(recipient.consent_at) if recipient.consent_at else None,
        "organisation": settings.MUTUALIS_ORGANISATION,
        "links": links,
        "unsubscribe_url": "",
    }
    domain = message_domain()
    headers = {"Message-ID": message_id(recipient.delivery_id, domain)}
    if topic is not None:
        url = links.unsubscribe(unsubscribe.token_for(recipient.delivery_id))
        context["unsubscribe_url"] = url
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = ONE_CLICK
        headers["List-Id"] = f'"{Topic(topic).label}" <{topic}.{domain}>'
    message = EmailMultiAlternatives(
        subject=subject,
        body=_text.render(context),
        from_email=from_address(),
        to=[recipient.email],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(_html.render(context), "text/html")
    return message


class _Lazy:
    def __init__(self, name: str) -> None:
        self.name = name
        self.template = None

    def render(self, context: dict) -> str:
        if self.template is None:
            self.template = get_template(self.name)
        return self.template.render(context)


_text = _Lazy("consent/email/campaign.txt")
_html = _Lazy("consent/email/campaign.html")
