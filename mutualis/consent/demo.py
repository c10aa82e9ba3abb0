"""Demo data: a few communication choices for the demo members (idempotent).

Runs after ``contracts.demo`` (``manage.py demo`` follows INSTALLED_APPS order), which creates the
members. A member who already has any consent event is left alone, so a second run changes
nothing; a member the contracts demo did not create is skipped.
"""

from __future__ import annotations

from mutualis.consent import services
from mutualis.consent.models import Channel, ConsentEvent, Source, Topic
from mutualis.lib.demo import DemoLogin
from mutualis.members.models import Person

# e-mail -> steps: ("grant" | "withdraw", topic, channel, source) or ("object", source)
CHOICES: dict[str, list[tuple[str, ...]]] = {
    "alice@example.org": [
        ("grant", Topic.NEWSLETTER, Channel.EMAIL, Source.SUBSCRIPTION),
        ("grant", Topic.OFFERS, Channel.EMAIL, Source.SUBSCRIPTION),
        ("grant", Topic.SURVEYS, Channel.EMAIL, Source.SUBSCRIPTION),
        ("withdraw", Topic.OFFERS, Channel.EMAIL, Source.MEMBER_SPACE),
    ],
    "dave@example.org": [
        ("grant", Topic.NEWSLETTER, Channel.POST, Source.PHONE),
        ("grant", Topic.SURVEYS, Channel.SMS, Source.PHONE),
    ],
    "ines@example.org": [
        ("grant", Topic.NEWSLETTER, Channel.EMAIL, Source.SUBSCRIPTION),
        ("grant", Topic.OFFERS, Channel.SMS, Source.SUBSCRIPTION),
    ],
    "marc@example.org": [
        ("grant", Topic.NEWSLETTER, Channel.POST, Source.LETTER),
        ("object", Source.LETTER),
    ],
}


def load() -> list[DemoLogin]:
    for email, steps in CHOICES.items():
        person = Person.objects.filter(email=email, member__isnull=False).first()
        if person is None or ConsentEvent.objects.filter(person=person).exists():
            continue
        for step in steps:
            if step[0] == "object":
                services.object_to_marketing(person=person, source=step[1])
                continue
            action, topic, channel, source = step
            if action == "grant":
                services.grant(
                    person=person,
                    topic=topic,
                    channel=channel,
                    source=source,
                )
            else:
                services.withdraw(person=person, topic=topic, channel=channel, source=source)
    return []
