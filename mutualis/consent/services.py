"""Writes and reads of communication preferences, consents and marketing objections.

Rules (policy sections 1-C, 5 right 4 and 6; GDPR art. 7 and 21; CNIL):

- Every choice is a new :class:`ConsentEvent` (the proof: when, how, who, and for a grant the
  version of the notice shown, :mod:`mutualis.consent.notices`), and the :class:`Preference` row
  of its topic and channel is updated in the same transaction. A choice a member of staff writes
  down (a call, a letter) keeps its document or the note of the call
  (:func:`record_for_person`). Nothing is
  ever rewritten: a withdrawal takes effect from now on and the earlier grant stays on record
  (art. 7(3): not retroactive).
- Withdrawing is one call, exactly like granting (art. 7(3): as easy as giving consent).
- An objection to direct marketing (art. 21(2)) is absolute and immediate: it withdraws every
  marketing consent at once, with no staff step, and excludes the person from every marketing
  selection while it is in force. While it is in force a marketing grant is refused
  (:class:`ObjectionInForce`), unless it is the person's own explicit new consent given in the
  member space while logged in: that lifts the objection (the person changed their mind; it is
  theirs to change) and is recorded as such. Nobody else can lift it — not staff on the phone,
  not a subscription form, not an import.
- Each write is audited inside its transaction; audit details hold codes only (topic, channel,
  source), never a personal value.

Every function takes keyword arguments and runs in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from mutualis import audit
from mutualis.consent import notices
from mutualis.consent.models import (
    CHANNEL_ADDRESS_FIELD,
    MARKETING_TOPICS,
    STAFF_SOURCES,
    Action,
    Channel,
    ConsentDocument,
    ConsentEvent,
    ConsentNotice,
    MarketingObjection,
    Preference,
    Source,
    Topic,
)
from mutualis.consent.tags import ConsentTag
from mutualis.members.models import Member, Person, User
from mutualis.privacy import catalogue, restrictions

# Reverse relations of members.Person that, when an app installs them, take a person out of
# every selection: a recorded death (rights.DeathRecord, loi 78-17 art. 84-85). Named, not
# imported: the rights app builds on this one. An erased person is found by their shredded
# data key, a restricted one through mutualis.privacy.restrictions.
_EXCLUDING_PERSON_RELATIONS = ("death_record",)


class ConsentError(Exception):
    """Base of the consent app's domain errors."""


class UnknownChoice(ConsentError, ValueError):
    """A topic, channel or source that is not in the vocabulary."""


class DocumentRequired(ConsentError, ValueError):
    """A choice written down by staff without the document or note it rests on."""


class ObjectionInForce(ConsentError):
    """A marketing grant while the person objects to marketing (GDPR art. 21(3)).

    Only the person's own explicit consent in the member space lifts an objection.
    """


def _choice(enum: type[models.TextChoices], value: str, what: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise UnknownChoice(f"unknown {what} {value!r}") from None


def _actor_label(actor) -> str:
    """The actor as stored on consent rows: same form as the audit log (``user:12``)."""
    if actor is None:
        return "system"
    if isinstance(actor, models.Model):
        return f"{actor._meta.model_name}:{actor.pk}"
    if getattr(actor, "is_authenticated", None) is False:
        return "anonymous"
    return str(actor)[:100]


def _lock(person: Person) -> None:
    """Serialise the consent writes of one person (the Preference row follows the last event)."""
    list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True))


def _objection_in_force(person: Person) -> MarketingObjection | None:
    return MarketingObjection.objects.in_force().filter(person=person).first()


def _is_own_explicit_consent(person: Person, source: str, actor) -> bool:
    """A logged-in member acting on their own record in the member space."""
    return (
        source == Source.MEMBER_SPACE
        and isinstance(actor, User)
        and Member.objects.filter(person_id=person.pk, account=actor).exists()
    )


def _record(
    *,
    person: Person,
    topic: str,
    channel: str,
    action: str,
    source: str,
    actor,
    notice: ConsentNotice | None,
    reference: str = "",
) -> ConsentEvent:
    event = ConsentEvent.objects.create(
        person_id=person.pk,
        topic=topic,
        channel=channel,
        action=action,
        at=timezone.now(),
        source=source,
        actor=_actor_label(actor),
        notice=notice,
    )
    Preference.objects.update_or_create(
        person_id=person.pk,
        topic=topic,
        channel=channel,
        defaults={"granted": action == Action.GRANTED, "since": event.at, "event": event},
    )
    details = {"topic": topic, "channel": channel, "source": source}
    if notice is not None:
        details["notice"] = notice.reference
    if reference:
        details["reference"] = reference
    audit.record(
        ConsentTag.CONSENT_GRANT if action == Action.GRANTED else ConsentTag.CONSENT_WITHDRAW,
        actor=actor,
        subject=person.pk,
        target=event,
        details=details,
    )
    return event


def _lift(objection: MarketingObjection, *, actor) -> None:
    objection.lifted_at = timezone.now()
    objection.lifted_by = _actor_label(actor)
    objection.save(update_fields=["lifted_at", "lifted_by"])
    audit.record(
        ConsentTag.OBJECTION_LIFT,
        actor=actor,
        subject=objection.person_id,
        target=objection,
        details={"source": Source.MEMBER_SPACE.value},
    )


# --- Writes -----------------------------------------------------------------------------------
def grant(
    *,
    person: Person,
    topic: str,
    channel: str,
    source: str,
    actor=None,
    notice: ConsentNotice | None = None,
) -> ConsentEvent:
    """Record that ``person`` agrees to receive ``topic`` on ``channel`` (GDPR art. 7(1)).

    ``notice`` is the version of the notice the person was shown (kept as proof); without it,
    the version in force now, which is what every page of the site shows. A notice of another
    topic is refused. Always records a new event, so a renewed consent under a new version is on
    record too. Raises :class:`ObjectionInForce` for a marketing topic while the person objects
    to marketing, unless this is their own explicit consent in the member space, which lifts the
    objection (art. 21(3)).
    """
    topic = _choice(Topic, topic, "topic")
    channel = _choice(Channel, channel, "channel")
    source = _choice(Source, source, "source")
    if notice is None:
        notice = notices.current_notice(topic)
    elif notice.topic != topic:
        raise UnknownChoice(f"notice {notice.reference} is not about {topic!r}")
    with transaction.atomic():
        _lock(person)
        if topic in MARKETING_TOPICS:
            objection = _objection_in_force(person)
            if objection is not None:
                if not _is_own_explicit_consent(person, source, actor):
                    raise ObjectionInForce(
                        "the person objects to marketing; only their own consent in the member "
                        "space lifts the objection"
                    )
                _lift(objection, actor=actor)
        return _record(
            person=person,
            topic=topic,
            channel=channel,
            action=Action.GRANTED,
            source=source,
            actor=actor,
            notice=notice,
        )


def withdraw(
    *, person: Person, topic: str, channel: str, source: str, actor=None, reference: str = ""
) -> ConsentEvent:
    """Record that ``person`` withdraws ``topic`` on ``channel`` (GDPR art. 7(3)).

    Takes effect at once and for the future only: earlier events stay as they were. Always
    records a new event (a withdrawal of something never granted is a refusal, kept as proof).
    ``reference`` names where it came from in the audit event (the campaign of an unsubscribe
    link), never a personal value.
    """
    topic = _choice(Topic, topic, "topic")
    channel = _choice(Channel, channel, "channel")
    source = _choice(Source, source, "source")
    with transaction.atomic():
        _lock(person)
        return _record(
            person=person,
            topic=topic,
            channel=channel,
            action=Action.WITHDRAWN,
            source=source,
            actor=actor,
            notice=None,
            reference=reference,
        )


def _withdraw_granted(
    person: Person, *, source: str, actor, topics: frozenset[str] | None = None
) -> int:
    granted = Preference.objects.filter(person_id=person.pk, granted=True)
    if topics is not None:
        granted = granted.filter(topic__in=topics)
    count = 0
    for topic, channel in granted.order_by("topic", "channel").values_list("topic", "channel"):
        _record(
            person=person,
            topic=topic,
            channel=channel,
            action=Action.WITHDRAWN,
            source=source,
            actor=actor,
            notice=None,
        )
        count += 1
    return count


def withdraw_all(*, person: Person, source: str, actor=None) -> int:
    """Withdraw every consent currently given, on every topic and channel (GDPR art. 7(3)).

    Returns how many were withdrawn; nothing is recorded for choices already withdrawn.
    """
    source = _choice(Source, source, "source")
    with transaction.atomic():
        _lock(person)
        return _withdraw_granted(person, source=source, actor=actor)


def object_to_marketing(*, person: Person, source: str, actor=None) -> MarketingObjection:
    """Record an objection to direct marketing (GDPR art. 21(2); policy section 5, right 4).

    Absolute and immediate: every marketing consent is withdrawn in the same transaction and the
    person leaves every marketing selection; no staff step, no reason asked. Idempotent: with an
    objection already in force, it is returned and nothing new is recorded.
    """
    source = _choice(Source, source, "source")
    with transaction.atomic():
        _lock(person)
        objection = _objection_in_force(person)
        created = objection is None
        if created:
            objection = MarketingObjection.objects.create(
                person_id=person.pk,
                at=timezone.now(),
                source=source,
                actor=_actor_label(actor),
            )
        withdrawn = _withdraw_granted(person, source=source, actor=actor, topics=MARKETING_TOPICS)
        if created:
            audit.record(
                ConsentTag.OBJECTION_CREATE,
                actor=actor,
                subject=person.pk,
                target=objection,
                details={"source": source, "withdrawn": withdrawn},
            )
    return objection


def set_preferences(
    *,
    person: Person,
    choices: Mapping[tuple[str, str], bool],
    source: str,
    actor=None,
    shown: Mapping[str, ConsentNotice] | None = None,
) -> list[ConsentEvent]:
    """Apply a whole set of choices at once (the member-space form), in one transaction.

    Only the choices that differ from the current state are recorded: a grant (with the version
    of the notice shown beside the box, ``shown[topic]``, else the one in force) or a
    withdrawal, one click either way (GDPR art. 7(3)). Returns the new events.
    """
    cleaned = {
        (_choice(Topic, topic, "topic"), _choice(Channel, channel, "channel")): bool(wanted)
        for (topic, channel), wanted in choices.items()
    }
    with transaction.atomic():
        _lock(person)
        current = current_preferences(person)
        events = []
        # Withdrawals first, then grants (False sorts before True).
        for (topic, channel), wanted in sorted(cleaned.items(), key=lambda item: item[1]):
            if current[(topic, channel)] == wanted:
                continue
            if wanted:
                event = grant(
                    person=person,
                    topic=topic,
                    channel=channel,
                    source=source,
                    actor=actor,
                    notice=(shown or {}).get(topic),
                )
            else:
                event = withdraw(
                    person=person, topic=topic, channel=channel, source=source, actor=actor
                )
            events.append(event)
    return events


@dataclass(frozen=True)
class Document:
    """A file a consent recorded by staff rests on (a scanned letter or form)."""

    filename: str
    content: bytes
    content_type: str


def record_for_person(
    *,
    person: Person,
    topic: str,
    channel: str,
    granted: bool,
    source: str,
    actor,
    notice: ConsentNotice | None = None,
    note: str = "",
    document: Document | None = None,
) -> ConsentEvent:
    """A choice a member of staff writes down: said on the phone or in person, or sent by letter
    or e-mail (GDPR art. 7(1): the mutuelle must be able to show the consent it relies on).

    The proof is kept with the event: the document received (required for a letter) or the
    note of the call. A grant names the version of the notice that was read out or printed on
    the form. Same rules as :func:`grant` and :func:`withdraw` otherwise; staff can never lift
    an objection to marketing (only the person can, in the member space).
    """
    source = _choice(Source, source, "source")
    if source not in STAFF_SOURCES:
        raise UnknownChoice(f"source {source!r} is not one staff records")
    note = (note or "").strip()
    if document is None and not note:
        raise DocumentRequired("Joignez le document reçu ou résumez l'appel.")
    if source == Source.LETTER and document is None:
        raise DocumentRequired("Joignez le courrier ou le formulaire reçu (scan).")
    if granted and notice is None:
        raise DocumentRequired("Indiquez la version de la mention lue ou imprimée.")
    with transaction.atomic():
        if granted:
            event = grant(
                person=person,
                topic=topic,
                channel=channel,
                source=source,
                actor=actor,
                notice=notice,
            )
        else:
            event = withdraw(
                person=person, topic=topic, channel=channel, source=source, actor=actor
            )
        ConsentDocument.objects.create(
            event=event,
            note=note[:5000],
            filename=document.filename[:255] if document else "",
            content_type=document.content_type[:100] if document else "",
            size=len(document.content) if document else 0,
            sha256=hashlib.sha256(document.content).hexdigest() if document else "",
            content=document.content if document else b"",
        )
    return event


def record_document_read(*, document: ConsentDocument, actor) -> None:
    """Opening the document of a choice is a read of what the person sent: audited."""
    with transaction.atomic():
        audit.record(
            ConsentTag.DOCUMENT_READ,
            actor=actor,
            subject=document.event.person_id,
            target=document.event,
        )


# --- Reads ------------------------------------------------------------------------------------
def has_objected_to_marketing(person: Person) -> bool:
    """Whether an objection to direct marketing is in force for ``person``."""
    return MarketingObjection.objects.in_force().filter(person_id=person.pk).exists()


def current_preferences(person: Person) -> dict[tuple[str, str], bool]:
    """Every (topic, channel) with whether consent is currently given (never given: False)."""
    state = {(topic.value, channel.value): False for topic in Topic for channel in Channel}
    for topic, channel, granted in Preference.objects.filter(person_id=person.pk).values_list(
        "topic", "channel", "granted"
    ):
        if (topic, channel) in state:
            state[(topic, channel)] = granted
    if has_objected_to_marketing(person):
        for topic, channel in state:
            if topic in MARKETING_TOPICS:
                state[(topic, channel)] = False
    return state


def marketing_audience(*, topic: str, channel: str) -> models.QuerySet[Person]:
    """The people every future selection for ``topic`` on ``channel`` may address.

    Those with a consent in force for that topic and channel (policy 1-C), reachable on that
    channel, whose data key is not shredded (erased people), whose death is not recorded, not
    restricted (GDPR art. 18), and — for a marketing topic — with no objection to marketing in
    force (GDPR art. 21(3): however their consents read).
    """
    topic = _choice(Topic, topic, "topic")
    channel = _choice(Channel, channel, "channel")
    people = Person.objects.filter(
        Exists(
            Preference.objects.filter(
                person=OuterRef("pk"), topic=topic, channel=channel, granted=True
            )
        ),
        data_key__wrapped_key__isnull=False,
    ).exclude(**{CHANNEL_ADDRESS_FIELD[channel]: ""})
    if topic in MARKETING_TOPICS:
        people = people.exclude(
            Exists(MarketingObjection.objects.in_force().filter(person=OuterRef("pk")))
        )
    people = exclude_deceased(people)
    # A person who asked for restriction (GDPR art. 18) is used for storage only.
    people = restrictions.exclude_restricted(people, purpose=catalogue.COMMUNICATION)
    return people


def exclude_deceased(people: models.QuerySet, *, path: str = "") -> models.QuerySet:
    """``people`` (or rows reaching a person through ``path``) without those whose death is
    recorded: no communication is ever addressed to a deceased person."""
    person_fields = {f.name for f in Person._meta.get_fields()}
    for relation in _EXCLUDING_PERSON_RELATIONS:
        if relation in person_fields:
            people = people.filter(**{f"{path}{relation}__isnull": True})
    return people
