"""Writing the breach register (GDPR art. 33(5)): record a breach, update it, record its
notification to the CNIL (art. 33), decide whether to inform the people (art. 34), name the
people concerned, close it. Every change is audited in the same transaction; the audit names
the breach, never what it says."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.breaches.clock import NOTIFICATION_DELAY
from mutualis.breaches.models import (
    AffectedPerson,
    Breach,
    Nature,
    NotInformGround,
    Origin,
    PeopleDecision,
    Risk,
    Status,
)
from mutualis.breaches.tags import BreachTag
from mutualis.members.models import Member
from mutualis.privacy import catalogue

EDITABLE = (
    "title",
    "discovered_at",
    "started_at",
    "ended_at",
    "natures",
    "origin",
    "circumstances",
    "data_categories",
    "subject_groups",
    "people_count",
    "records_count",
    "consequences",
    "measures_taken",
    "measures_planned",
    "risk",
)


class BreachError(Exception):
    """A change the register refuses; the message is French, for the page."""


def _check(values: Mapping[str, Any]) -> dict:
    values = {name: values[name] for name in EDITABLE if name in values}
    now = timezone.now()
    if values.get("discovered_at") and values["discovered_at"] > now:
        raise BreachError("La prise de connaissance ne peut pas être dans le futur.")
    started, ended = values.get("started_at"), values.get("ended_at")
    if started and ended and ended < started:
        raise BreachError("La fin de la violation précède son début.")
    if started and values.get("discovered_at") and started > values["discovered_at"]:
        raise BreachError("La violation ne peut pas commencer après sa découverte.")
    checks = (
        ("natures", set(Nature.values)),
        ("data_categories", {c.code for c in catalogue.ALL_CATEGORIES}),
        ("subject_groups", {g.code for g in catalogue.ALL_DATA_SUBJECT_GROUPS}),
    )
    for name, allowed in checks:
        if name in values and not set(values[name]) <= allowed:
            raise BreachError("Choisissez dans la liste proposée.")
    if values.get("origin", Origin.UNKNOWN) not in Origin.values:
        raise BreachError("Choisissez l'origine dans la liste proposée.")
    if values.get("risk", Risk.UNASSESSED) not in Risk.values:
        raise BreachError("Choisissez le niveau de risque dans la liste proposée.")
    return values


def _next_reference(year: int) -> str:
    prefix = f"VD-{year}-"
    last = (
        Breach.objects.select_for_update()
        .filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:03d}"


def record_breach(*, values: Mapping[str, Any], actor) -> Breach:
    """Write a breach to the register as soon as it is known (art. 33(5): every breach, even
    one that need not be notified)."""
    values = _check(values)
    with transaction.atomic():
        breach = Breach.objects.create(
            reference=_next_reference(timezone.localdate().year), recorded_by=actor, **values
        )
        audit.record(BreachTag.RECORD, actor=actor, target=breach)
    return breach


def update_breach(*, breach: Breach, values: Mapping[str, Any], actor) -> Breach:
    values = _check(values)
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach.pk)
        changed = sorted(name for name, value in values.items() if getattr(breach, name) != value)
        for name in changed:
            setattr(breach, name, values[name])
        if changed:
            breach.save(update_fields=changed)
            audit.record(BreachTag.UPDATE, actor=actor, target=breach, details={"fields": changed})
    return breach


def record_notification(
    *, breach: Breach, sent_at: datetime.datetime, reference: str, late_reason: str, actor
) -> Breach:
    """The notification was sent to the CNIL: its date and number. Past 72 hours after the
    breach became known, the reasons for the delay are required (art. 33(1))."""
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach.pk)
        if sent_at < breach.discovered_at or sent_at > timezone.now():
            raise BreachError(
                "La date d'envoi doit suivre la prise de connaissance et ne pas être future."
            )
        late = sent_at - breach.discovered_at > NOTIFICATION_DELAY
        if late and not late_reason.strip():
            raise BreachError(
                "La notification part plus de 72 heures après la prise de connaissance : "
                "indiquez le motif du retard (RGPD art. 33(1))."
            )
        breach.cnil_notified_at = sent_at
        breach.cnil_reference = reference.strip()
        breach.late_reason = late_reason.strip()
        if breach.risk in (Risk.UNASSESSED, Risk.UNLIKELY):
            breach.risk = Risk.RISK
        breach.save(update_fields=["cnil_notified_at", "cnil_reference", "late_reason", "risk"])
        audit.record(BreachTag.NOTIFY, actor=actor, target=breach, details={"late": late})
    return breach


def decide_information(*, breach: Breach, decision: str, ground: str, note: str, actor) -> Breach:
    """Whether the people are told (art. 34): required for a high risk, unless one of the three
    cases of art. 34(3) applies, which the decision names."""
    if decision not in (PeopleDecision.INFORM, PeopleDecision.NOT_INFORM):
        raise BreachError("Choisissez d'informer ou non les personnes.")
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach.pk)
        if decision == PeopleDecision.NOT_INFORM:
            if breach.risk == Risk.HIGH and ground not in NotInformGround.values:
                raise BreachError(
                    "Un risque élevé impose d'informer les personnes, sauf l'un des cas de "
                    "l'article 34(3) : choisissez-le."
                )
            if breach.risk != Risk.HIGH and not (ground or note.strip()):
                raise BreachError("Justifiez la décision de ne pas informer les personnes.")
        breach.people_decision = decision
        breach.not_inform_ground = ground if decision == PeopleDecision.NOT_INFORM else ""
        breach.decision_note = note.strip()
        breach.save(update_fields=["people_decision", "not_inform_ground", "decision_note"])
        audit.record(
            BreachTag.DECIDE,
            actor=actor,
            target=breach,
            details={"decision": decision, "ground": breach.not_inform_ground},
        )
    return breach


def add_people(*, breach: Breach, member_numbers: Iterable[str], actor) -> list[str]:
    """Name the people concerned, by member number (the member and their beneficiaries, whose
    data the member's record holds). Returns the numbers found nowhere."""
    numbers = sorted({n.strip().upper() for n in member_numbers if n.strip()})
    members = {
        m.number: m
        for m in Member.objects.filter(number__in=numbers).prefetch_related("beneficiaries")
    }
    with transaction.atomic():
        added = 0
        for member in members.values():
            for person_id in [member.person_id, *(b.person_id for b in member.beneficiaries.all())]:
                _, created = AffectedPerson.objects.get_or_create(
                    breach=breach, person_id=person_id
                )
                if created:
                    added += 1
                    audit.record(
                        BreachTag.PEOPLE_ADD, actor=actor, subject=person_id, target=breach
                    )
    return [n for n in numbers if n not in members]


def close(*, breach: Breach, actor) -> Breach:
    return _move(breach, Status.CLOSED, actor=actor, tag=BreachTag.CLOSE)


def reopen(*, breach: Breach, actor) -> Breach:
    return _move(breach, Status.OPEN, actor=actor, tag=BreachTag.REOPEN)


def _move(breach: Breach, status: str, *, actor, tag: str) -> Breach:
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach.pk)
        if not breach.can_move_to(status):
            raise BreachError("Cette violation est déjà dans cet état.")
        if status == Status.CLOSED and breach.risk == Risk.UNASSESSED:
            raise BreachError("Évaluez le risque pour les personnes avant de clore.")
        breach.status = status
        breach.closed_at = timezone.now() if status == Status.CLOSED else None
        breach.save(update_fields=["status", "closed_at"])
        audit.record(tag, actor=actor, target=breach)
    return breach
