"""Campaigns of the communication service: compose, preview, count the audience, send.

Rules (policy 1-C; GDPR art. 6(1)(a), 7, 18, 21; loi 78-17 art. 84-85; CPCE L34-5 for e-mail
prospection):

- A campaign is composed as a draft (subject and text, with the placeholders ``{prenom}``,
  ``{nom}`` and ``{civilite}``); every edit of the text is a new revision.
- Its audience is computed when it is sent, never stored before: for a newsletter, offers or a
  survey, the people whose consent for that topic on that channel is in force; for service
  information, the members whose contract has not ended. Either way without the people who
  objected to marketing (marketing topics), whose processing is restricted (art. 18), whose
  death is recorded, whose data key is shredded, or who cannot be reached on the channel.
- Sending freezes that audience into the send log (:class:`~mutualis.consent.models.Delivery`),
  one row per recipient with the revision of the text and the consent relied on. The messages
  themselves leave through :mod:`mutualis.consent.sending` (e-mail) or the printer's hand-over
  (:mod:`mutualis.consent.postal`), both run by the periodic job; both check each person again
  just before, so a withdrawal made during the sending is honoured at once.
- Each message or letter is a processing use of the recipient's data (:func:`use_of`, declared
  in the app's ``privacy.py``): the restriction guard (GDPR art. 18) stands before it and it is
  audited under that use, one event per person (``privacy_check`` T9).

Every write runs in one transaction with its audit event; details hold codes and counts only.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from mutualis import audit
from mutualis.consent import services
from mutualis.consent.models import (
    CHANNEL_ADDRESS_FIELD,
    MARKETING_TOPICS,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    MarketingObjection,
    Preference,
)
from mutualis.consent.models.campaigns import CAMPAIGN_CHANNELS, KIND_TOPIC
from mutualis.consent.tags import ConsentTag
from mutualis.members.models import Civility, Person
from mutualis.privacy import catalogue, restrictions
from mutualis.privacy.declaration import Purpose

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = {
    "prenom": "le ou les prénoms du destinataire",
    "nom": "son nom",
    "civilite": "« Madame » ou « Monsieur »",
}
MAX_BODY = 20_000
FREEZE_BATCH = 2000
# An audience up to this size is frozen in the staff member's request (about a second); a larger
# one by the periodic job (``send_campaigns``), where no web server's timeout can cut it short:
# at 100,000 recipients the freeze takes seconds, at a million more than a request may last.
IN_REQUEST_RECIPIENTS = 10_000


class CampaignError(ValueError):
    """A campaign operation the rules refuse; the message is French, for the page."""


def purpose_of(kind: str) -> Purpose:
    """The purpose a campaign of ``kind`` serves: service information rests on the contract,
    the others on the person's consent (communication)."""
    return catalogue.CONTRACT if KIND_TOPIC[kind] is None else catalogue.COMMUNICATION


def use_of(kind: str) -> str:
    """The declared processing use of sending one person a campaign of ``kind``."""
    if KIND_TOPIC[kind] is None:
        return ConsentTag.SERVICE_DELIVER
    return ConsentTag.CAMPAIGN_DELIVER


# --- The text -------------------------------------------------------------------------------
def text_problems(*, subject: str, body: str) -> dict[str, str]:
    """What is wrong with a subject and a text, by field (French messages)."""
    problems = {}
    if not subject.strip():
        problems["subject"] = "Indiquez l'objet."
    elif len(subject) > 200:
        problems["subject"] = "L'objet compte 200 caractères au plus."
    elif "\n" in subject or "\r" in subject:
        problems["subject"] = "L'objet tient sur une ligne."
    if not body.strip():
        problems["body"] = "Écrivez le texte."
    elif len(body) > MAX_BODY:
        problems["body"] = f"Le texte compte {MAX_BODY} caractères au plus."
    for field, text in (("subject", subject), ("body", body)):
        unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
        if unknown and field not in problems:
            names = ", ".join("{" + name + "}" for name in unknown)
            known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            problems[field] = f"Champ de fusion inconnu : {names}. Champs possibles : {known}."
    return problems


def personalise(text: str, *, first_names: str, last_name: str, civility: str) -> str:
    """``text`` with its placeholders replaced by the recipient's values."""
    values = {
        "prenom": first_names,
        "nom": last_name,
        "civilite": Civility(civility).label if civility in Civility.values else "",
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def content_hash(campaign: Campaign) -> str:
    text = f"{campaign.kind}\n{campaign.channel}\n{campaign.subject}\n{campaign.body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _clean(title: str, kind: str, channel: str, subject: str, body: str) -> dict[str, str]:
    title, subject = (title or "").strip(), (subject or "").strip()
    body = (body or "").replace("\r\n", "\n").strip()
    problems = text_problems(subject=subject, body=body)
    if not title:
        problems["title"] = "Donnez un nom à la campagne."
    elif len(title) > 150:
        problems["title"] = "Le nom compte 150 caractères au plus."
    if kind not in CampaignKind.values:
        problems["kind"] = "Choisissez la nature de la campagne."
    if channel not in [c.value for c in CAMPAIGN_CHANNELS]:
        problems["channel"] = "Choisissez le courriel ou le courrier."
    if problems:
        raise CampaignInvalid(problems)
    return {"title": title, "kind": kind, "channel": channel, "subject": subject, "body": body}


class CampaignInvalid(CampaignError):
    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems.values()))


def _label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor._meta.model_name}:{actor.pk}" if hasattr(actor, "_meta") else str(actor)


# --- Writes: the draft --------------------------------------------------------------------
def create_campaign(
    *, title: str, kind: str, channel: str, subject: str, body: str, actor
) -> Campaign:
    """A new draft campaign."""
    values = _clean(title, kind, channel, subject, body)
    with transaction.atomic():
        campaign = Campaign.objects.create(**values, created_by=_label(actor))
        audit.record(
            ConsentTag.CAMPAIGN_CREATE,
            actor=actor,
            target=campaign,
            details={"kind": campaign.kind, "channel": campaign.channel},
        )
    return campaign


def edit_campaign(
    *, campaign: Campaign, title: str, kind: str, channel: str, subject: str, body: str, actor
) -> Campaign:
    """Change a draft. A change of its subject or text is a new revision of the text."""
    values = _clean(title, kind, channel, subject, body)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not campaign.is_editable:
            raise CampaignError("Une campagne dont l'envoi est lancé ne se modifie plus.")
        text_changed = (values["subject"], values["body"]) != (campaign.subject, campaign.body)
        for name, value in values.items():
            setattr(campaign, name, value)
        if text_changed:
            campaign.revision += 1
        campaign.updated_at = timezone.now()
        campaign.save()
        audit.record(
            ConsentTag.CAMPAIGN_EDIT,
            actor=actor,
            target=campaign,
            details={"revision": campaign.revision, "kind": campaign.kind},
        )
    return campaign


# --- The audience ----------------------------------------------------------------------------
def _contract_in_force() -> Exists:
    """A member with a contract that has not ended (named through the registry: the contracts
    app builds on this one)."""
    contract = apps.get_model("contracts", "Contract")
    today = timezone.localdate()
    return Exists(
        contract.objects.filter(member__person=OuterRef("pk"), archived_at__isnull=True).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
    )


def audience(campaign: Campaign) -> models.QuerySet[Person]:
    """The people ``campaign`` would reach if it were sent now (see the module docstring),
    annotated with ``consent_event_id``, the grant each one is selected on."""
    topic = KIND_TOPIC[campaign.kind]
    if topic is not None:
        people = services.marketing_audience(topic=topic, channel=campaign.channel)
        grant = Preference.objects.filter(
            person=OuterRef("pk"), topic=topic, channel=campaign.channel, granted=True
        ).values("event_id")[:1]
        return people.annotate(consent_event_id=Subquery(grant))
    people = Person.objects.filter(_contract_in_force(), data_key__wrapped_key__isnull=False)
    people = people.exclude(**{CHANNEL_ADDRESS_FIELD[campaign.channel]: ""})
    people = services.exclude_deceased(people)
    people = restrictions.exclude_restricted(people, purpose=purpose_of(campaign.kind))
    return people.annotate(consent_event_id=models.Value(None, models.UUIDField()))


@dataclass(frozen=True)
class AudienceCount:
    """How the audience is reached, step by step, for the page that shows it."""

    candidates: int  # consent in force (or contract in force), before the exclusions
    objected: int
    restricted: int
    deceased: int
    unreachable: int
    erased: int
    total: int


def reach(campaign: Campaign, *, up_to: int | None = None) -> int:
    """How many people ``campaign`` would reach now, counted up to ``up_to`` + 1
    (``IN_REQUEST_RECIPIENTS`` by default; any more is "more than ``up_to``"): one count that
    stops at the limit, where :func:`audience_count` counts the whole audience step by step
    (seconds at a million people)."""
    up_to = IN_REQUEST_RECIPIENTS if up_to is None else up_to
    # No ordering (a person's is by name) and no consent column: the database may stop at the
    # limit instead of sorting the whole audience first.
    return audience(campaign).order_by().values("pk")[: up_to + 1].count()


def audience_count(campaign: Campaign, *, total: int | None = None) -> AudienceCount:
    """``total``: the audience's size when the caller counted it already (:func:`reach`
    under its limit)."""
    topic = KIND_TOPIC[campaign.kind]
    people = Person.objects.all()
    if topic is not None:
        people = people.filter(
            Exists(
                Preference.objects.filter(
                    person=OuterRef("pk"), topic=topic, channel=campaign.channel, granted=True
                )
            )
        )
    else:
        people = people.filter(_contract_in_force())
    candidates = people.count()
    objecting = Exists(MarketingObjection.objects.in_force().filter(person=OuterRef("pk")))
    objected = (
        people.filter(objecting).count() if topic in MARKETING_TOPICS else 0
    )  # marketing topics only
    purpose = purpose_of(campaign.kind)
    restricted = candidates - restrictions.exclude_restricted(people, purpose=purpose).count()
    deceased = candidates - services.exclude_deceased(people).count()
    unreachable = people.filter(**{CHANNEL_ADDRESS_FIELD[campaign.channel]: ""}).count()
    erased = people.filter(data_key__wrapped_key__isnull=True).count()
    return AudienceCount(
        candidates=candidates,
        objected=objected,
        restricted=restricted,
        deceased=deceased,
        unreachable=unreachable,
        erased=erased,
        total=audience(campaign).count() if total is None else total,
    )


# --- Writes: sending -----------------------------------------------------------------------
def _change_status(campaign: Campaign, status: str) -> None:
    if not campaign.can_become(status):
        raise CampaignError(
            f"Une campagne « {campaign.get_status_display().lower()} » ne peut pas passer à "
            f"« {CampaignStatus(status).label.lower()} »."
        )
    campaign.status = status


def request_sending(*, campaign: Campaign, actor) -> Campaign:
    """Send a draft, as staff asks from the back office.

    An audience of at most ``IN_REQUEST_RECIPIENTS`` people is frozen at once
    (:func:`start_sending`). A larger one is left to the periodic job: the campaign is marked
    *envoi demandé* (who asked, when), and ``send_campaigns`` freezes its audience, computed
    then, before it sends (:func:`freeze_requested`). Refused, with nothing changed, for a text
    with problems or an audience empty now.
    """
    with transaction.atomic():
        campaign = _locked_with_a_sound_text(campaign)
        _change_status(campaign, CampaignStatus.PREPARING)
        now = timezone.now()
        campaign.send_requested_at, campaign.send_requested_by = now, _label(actor)
        reached = reach(campaign)
        if not reached:
            raise CampaignError(_NOBODY)
        if reached <= IN_REQUEST_RECIPIENTS:
            _change_status(campaign, CampaignStatus.SENDING)
            return _freeze(campaign, actor=actor, now=now)
        campaign.save()
        audit.record(
            ConsentTag.CAMPAIGN_REQUEST, actor=actor, target=campaign, details=_what(campaign)
        )
    return campaign


def start_sending(*, campaign: Campaign, actor) -> Campaign:
    """Freeze the audience computed now into the send log and open the sending, whatever its
    size (a draft, or a campaign whose sending was asked for).

    The rows are written in batches inside one transaction: the campaign is either still a draft
    with no row, or sending with all of them. Refused for a campaign whose audience is empty.
    """
    with transaction.atomic():
        campaign = _locked_with_a_sound_text(campaign)
        _change_status(campaign, CampaignStatus.SENDING)
        return _freeze(campaign, actor=actor, now=timezone.now())


def _locked_with_a_sound_text(campaign: Campaign) -> Campaign:
    """The campaign, locked for the transaction; its text refused if it has problems."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = text_problems(subject=campaign.subject, body=campaign.body)
    if problems:
        raise CampaignInvalid(problems)
    return campaign


def freeze_requested(campaign: Campaign) -> Campaign | None:
    """The periodic job's part of :func:`request_sending`: freeze the audience of a campaign
    whose sending was asked for, in the name of whoever asked.

    Returns the campaign, sending; or back to a draft when nobody can receive it any more (the
    page says so); None when it is no longer waiting (cancelled meanwhile, or frozen by another
    run) or another run holds it.
    """
    with transaction.atomic():
        waiting = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PREPARING)
        campaign = waiting.select_for_update(skip_locked=True).first()
        if campaign is None:
            return None
        actor = campaign.send_requested_by or None  # its text was checked then, and is fixed
        try:
            with transaction.atomic():
                _change_status(campaign, CampaignStatus.SENDING)
                return _freeze(campaign, actor=actor, now=timezone.now())
        except CampaignError:
            campaign.status = CampaignStatus.DRAFT
            campaign.save(update_fields=["status"])
            audit.record(ConsentTag.CAMPAIGN_NO_AUDIENCE, actor=actor, target=campaign)
    return campaign


def freeze_all_requested() -> list[Campaign]:
    """Freeze every campaign whose sending was asked for, oldest request first."""
    waiting = Campaign.objects.filter(status=CampaignStatus.PREPARING).order_by("send_requested_at")
    return [done for campaign in waiting if (done := freeze_requested(campaign)) is not None]


_NOBODY = "Personne ne peut recevoir cette campagne aujourd'hui."


def _what(campaign: Campaign) -> dict:
    """What an audit event of the sending says of the campaign: codes and numbers only."""
    return {"kind": campaign.kind, "channel": campaign.channel, "revision": campaign.revision}


def _freeze(campaign: Campaign, *, actor, now) -> Campaign:
    """Write the send log of ``campaign`` (locked, its status set to sending by the caller),
    one row per person of its audience, and record it; in the caller's transaction."""
    people = audience(campaign).order_by("pk").values_list("pk", "consent_event_id")
    rows = []
    total = 0
    for person_id, event_id in people.iterator(chunk_size=FREEZE_BATCH):
        rows.append(
            Delivery(
                campaign=campaign,
                person_id=person_id,
                revision=campaign.revision,
                consent_event_id=event_id,
                queued_at=now,
            )
        )
        if len(rows) >= FREEZE_BATCH:
            Delivery.objects.bulk_create(rows)
            total += len(rows)
            rows = []
    if rows:
        Delivery.objects.bulk_create(rows)
        total += len(rows)
    if not total:
        raise CampaignError(_NOBODY)
    campaign.frozen_at = now
    campaign.frozen_by = _label(actor)
    campaign.recipients = total
    campaign.content_hash = content_hash(campaign)
    campaign.save()
    audit.record(
        ConsentTag.CAMPAIGN_SEND,
        actor=actor,
        target=campaign,
        details={**_what(campaign), "recipients": total, "content_hash": campaign.content_hash},
    )
    return campaign


def pause(*, campaign: Campaign, actor) -> Campaign:
    """Stop the sending after the message in flight (the sending run looks at the campaign's
    status before each message); :func:`resume` picks it up again."""
    return _simple_change(campaign, CampaignStatus.PAUSED, ConsentTag.CAMPAIGN_PAUSE, actor)


def resume(*, campaign: Campaign, actor) -> Campaign:
    return _simple_change(campaign, CampaignStatus.SENDING, ConsentTag.CAMPAIGN_RESUME, actor)


def cancel(*, campaign: Campaign, actor) -> Campaign:
    """Give up a draft, or the rest of a sending: the rows not sent yet are cancelled.

    Rows a sending run has claimed are left to it: it sees the cancellation before its next
    message and cancels the rest of its batch. If that run died, the periodic job recovers its
    claims once their lease is over (:func:`mutualis.consent.sending.recover_abandoned`): the
    message in flight becomes *uncertain*, the others *cancelled*.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _change_status(campaign, CampaignStatus.CANCELLED)
        cancelled = campaign.deliveries.filter(status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED
        )
        campaign.finished_at = timezone.now() if campaign.frozen_at else None
        campaign.save()
        audit.record(
            ConsentTag.CAMPAIGN_CANCEL,
            actor=actor,
            target=campaign,
            details={"cancelled": cancelled},
        )
    return campaign


def _simple_change(campaign: Campaign, status: str, tag: str, actor) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _change_status(campaign, status)
        campaign.save(update_fields=["status"])
        audit.record(tag, actor=actor, target=campaign)
    return campaign


def finish_if_done(campaign: Campaign) -> bool:
    """Mark a sending campaign sent once no row is left to send; return whether it is."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SENDING:
            return campaign.status == CampaignStatus.SENT
        if campaign.deliveries.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED]
        ).exists():
            return False
        campaign.status = CampaignStatus.SENT
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
        audit.record(
            ConsentTag.CAMPAIGN_FINISH, target=campaign, details=progress(campaign).as_dict()
        )
    return True


# --- Reads ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def of(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def done(self) -> int:
        """Rows that will not change any more."""
        return self.total - self.of("pending") - self.of("claimed")

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def as_dict(self) -> dict[str, int]:
        return {status: self.of(status) for status in DeliveryStatus.values}


def progress(campaign: Campaign) -> Progress:
    counts = Counter(
        dict(
            campaign.deliveries.order_by()
            .values_list("status")
            .annotate(n=models.Count("pk"))
            .values_list("status", "n")
        )
    )
    return Progress(dict(counts))


def campaign_channel_label(campaign: Campaign) -> str:
    return Channel(campaign.channel).label
