"""Legal holds: a hold stops the retention clock for a person or for one record.

A hold is placed for litigation or an authority's request (with its reason), and released when
the matter ends; both are audited. The retention engine leaves held rows alone
(:func:`exclude_held`), so a held record is neither archived, deleted nor anonymised, and a held
person is not swept.
"""

from __future__ import annotations

import uuid

from django.db import models, transaction
from django.utils import timezone

from mutualis import audit
from mutualis.audit.tags import Tag
from mutualis.privacy.models import LegalHold


class HoldTag(Tag):
    CREATE = "privacy:hold:create"
    RELEASE = "privacy:hold:release"


def exclude_held(qs: models.QuerySet, *, subject_field: str = "") -> models.QuerySet:
    """``qs`` without the rows under an active hold: held themselves, or (through
    ``subject_field``, the path to their person) rows of a held person."""
    holds = LegalHold.objects.active()
    label = qs.model._meta.label_lower
    held_rows = [
        t.split(":", 1)[1]
        for t in holds.filter(target__startswith=f"{label}:").values_list("target", flat=True)
    ]
    if held_rows:
        qs = qs.exclude(pk__in=held_rows)
    if subject_field:
        held_people = list(holds.exclude(subject_id="").values_list("subject_id", flat=True))
        if held_people:
            path = "pk" if subject_field == "id" else f"{subject_field}__pk"
            qs = qs.exclude(**{f"{path}__in": held_people})
    return qs


def place_hold(
    *, reason: str, actor, subject=None, target: models.Model | None = None
) -> LegalHold:
    """Stop the clock for a person or a record (litigation, an authority's request)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Indiquez le motif du gel de conservation.")
    if (subject is None) == (target is None):
        raise ValueError("Un gel porte soit sur une personne, soit sur un enregistrement.")
    if subject is not None:
        try:
            subject = uuid.UUID(str(getattr(subject, "pk", subject)))
        except ValueError:
            raise ValueError("Identifiant de personne invalide.") from None
    with transaction.atomic():
        hold = LegalHold.objects.create(
            subject_id=str(getattr(subject, "pk", subject) or ""),
            target=f"{target._meta.label_lower}:{target.pk}" if target is not None else "",
            reason=reason[:300],
            created_by=_actor_label(actor),
        )
        audit.record(
            HoldTag.CREATE,
            actor=actor,
            subject=hold.subject_id or None,
            target=hold,
            details={"scope": "person" if hold.subject_id else hold.target},
        )
    return hold


def release_hold(*, hold: LegalHold, actor) -> LegalHold:
    with transaction.atomic():
        hold.released_at = timezone.now()
        hold.released_by = _actor_label(actor)
        hold.save(update_fields=["released_at", "released_by"])
        audit.record(HoldTag.RELEASE, actor=actor, subject=hold.subject_id or None, target=hold)
    return hold


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor._meta.model_name}:{actor.pk}" if hasattr(actor, "_meta") else str(actor)
