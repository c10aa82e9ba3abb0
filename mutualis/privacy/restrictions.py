"""Restriction of processing: storage only, for a person and a purpose (GDPR art. 18, 21).

A :class:`~mutualis.privacy.models.Restriction` stops every use of one person's data for one
purpose, or for all of them (``"*"``), except storage. It is started by the rights app (a
restriction asked under art. 18, an objection admitted under art. 21, or the part of an erasure
request the law obliges the mutuelle to keep, art. 17(3)), and consulted here by every service
that *uses* data beyond storing it::

    from mutualis.privacy import restrictions

    restrictions.ensure_allowed(person, purpose=catalogue.CONTRACT, use="members:nir:reveal")

Rules (GDPR art. 18(2) and (3)):

- storage (``use="storage"``) is always allowed;
- any other use of restricted data raises :class:`ProcessingRestricted`, unless the DPO has
  recorded an override for the establishment, exercise or defence of legal claims covering that
  use (:func:`allow_for_legal_claims`); each use under an override is audited;
- a restriction asked by the person (ground ``restriction``) is lifted only after the person was
  told (:func:`record_lift_notice`, then :func:`lift`).

What stays allowed without an override, because the person asked for it (art. 18(2): "with the
data subject's consent"): answering the person about their own request or message (contact
answers, rights answers), and carrying out their own rights requests. Those services therefore do
not call :func:`ensure_allowed`.

Bulk uses (a marketing audience, an export to a recipient) exclude restricted people with
:func:`exclude_restricted`.

This module is the one guard: a service that uses a person's data beyond storage declares its
use (:func:`register_use`, in its app's ``privacy.py``) and calls :func:`ensure_allowed` or
:func:`exclude_restricted`; ``manage.py privacy_check`` (promise T9) then reads the audit log
for every declared use made of a restricted person's data without an override.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from mutualis import audit
from mutualis.audit.tags import Tag
from mutualis.lib.prepared import PreparedQuery
from mutualis.privacy.declaration import Purpose
from mutualis.privacy.models import Restriction, RestrictionGround

ALL_PURPOSES = "*"
STORAGE = "storage"

# The uses of a person's data that the guard stands before, by audit tag: each app declares the
# processing uses of its services in its ``privacy.py`` (:func:`register_use`), with the purposes
# they serve. ``privacy_check`` (T9) reads the audit log for them.
_uses: dict[str, frozenset[str]] = {}
# The permission that lets a staff member record an override for legal claims (the DPO's). The
# ground does not import the roles: the app that owns them declares it (members/privacy.py).
_override_permission: list[str] = []


def register_use(use: str, *, purposes) -> str:
    """Declare a processing use (an audit tag) and the purposes it serves; returns ``use``.

    Every service that uses a person's data beyond storing it declares its use here and calls
    :func:`ensure_allowed` (one person) or :func:`exclude_restricted` (a selection) with it.
    """
    codes = frozenset(str(purpose_code(p)) for p in purposes)
    if not codes:
        raise ValueError("a processing use serves at least one purpose")
    _uses[str(use)] = codes
    return use


def uses_covered_by(purpose: str) -> set[str]:
    """The declared uses a restriction on ``purpose`` (or on all, ``"*"``) stops."""
    if purpose == ALL_PURPOSES:
        return set(_uses)
    return {use for use, codes in _uses.items() if purpose in codes}


def declare_override_permission(permission: str) -> None:
    """Name the permission that allows an override for legal claims (called once, at start)."""
    _override_permission[:] = [str(permission)]


def override_permission() -> str | None:
    return _override_permission[0] if _override_permission else None


class RestrictionTag(Tag):
    START = "privacy:restriction:start"
    NOTICE = "privacy:restriction:notice"
    LIFT = "privacy:restriction:lift"
    OVERRIDE = "privacy:restriction:override"
    OVERRIDE_USE = "privacy:restriction:override_use"
    REFUSE = "privacy:restriction:refuse"


class ProcessingRestricted(ValueError):
    """A use of data whose processing is restricted (storage only).

    A ``ValueError``, like the services' other refusals, so that a page already showing a
    service's refusal as a form error (the back office's reveal form) shows this one too.
    """

    def __init__(self, restriction: Restriction, use: str) -> None:
        self.restriction = restriction
        self.use = use
        scope = (
            "pour toutes les finalités"
            if restriction.purpose == ALL_PURPOSES
            else f"pour la finalité « {restriction.purpose} »"
        )
        super().__init__(
            f"Le traitement des données de cette personne est limité {scope} depuis le "
            f"{timezone.localtime(restriction.started_at):%d/%m/%Y} "
            f"({restriction.get_ground_display()}) : seule leur conservation est permise. "
            "Une exception n'est possible que pour la constatation, l'exercice ou la défense "
            "de droits en justice, sur décision du délégué à la protection des données."
        )


class RestrictionError(ValueError):
    """A restriction operation the rules refuse (French message for the caller)."""


def subject_id_of(person_or_id: Any) -> str:
    """The id string a restriction names a person by (a model instance, a UUID or a string)."""
    value = getattr(person_or_id, "pk", person_or_id)
    if value is None or value == "":
        raise ValueError("a restriction concerns one person")
    return str(value)


def purpose_code(purpose: Purpose | str | None) -> str | None:
    if purpose is None:
        return None
    return purpose.code if isinstance(purpose, Purpose) else str(purpose)


def active_restrictions(person_or_id: Any, purpose: Purpose | str | None = None):
    """The active restrictions on a person, for ``purpose`` (or any purpose when None)."""
    return (
        Restriction.objects.active()
        .filter(subject_id=subject_id_of(person_or_id))
        .covering(purpose_code(purpose))
    )


def is_restricted(person_or_id: Any, purpose: Purpose | str | None = None) -> bool:
    """Whether any use beyond storage of the person's data for ``purpose`` is stopped."""
    return active_restrictions(person_or_id, purpose).exists()


def restricted_subject_ids(purpose: Purpose | str | None = None) -> models.QuerySet:
    """Ids (strings) of the people restricted for ``purpose``: for bulk exclusions."""
    return (
        Restriction.objects.active()
        .covering(purpose_code(purpose))
        .values_list("subject_id", flat=True)
    )


def exclude_restricted(
    qs: models.QuerySet, *, purpose: Purpose | str, subject_field: str = "pk"
) -> models.QuerySet:
    """``qs`` without the rows of restricted people (``subject_field`` leads to the person's id).

    Ids are compared as strings, so that UUID and integer keys work on every database.
    """
    ids = list(restricted_subject_ids(purpose))
    if not ids:
        return qs
    return qs.exclude(**{f"{subject_field}__in": _typed_ids(qs.model, subject_field, ids)})


def _typed_ids(model: type[models.Model], path: str, ids: list[str]) -> list:
    field_obj: Any = None
    current: Any = model
    for part in path.split("__"):
        field_obj = current._meta.pk if part == "pk" else current._meta.get_field(part)
        if field_obj.is_relation and field_obj.related_model is not None:
            current = field_obj.related_model
            field_obj = current._meta.pk
    typed = []
    for value in ids:
        try:
            typed.append(field_obj.to_python(value))
        except ValidationError:  # an id of another kind cannot match
            continue
    return typed


def ensure_allowed(person_or_id: Any, *, purpose: Purpose | str, use: str) -> dict | None:
    """Refuse a use of restricted data (GDPR art. 18(2)); return the override that allowed it.

    ``use`` names what the caller is about to do, as an audit tag (``"members:nir:reveal"``), or
    ``"storage"``. Raises :class:`ProcessingRestricted` when an active restriction covers
    ``purpose`` and no DPO override for legal claims covers ``use``; the refusal is audited.
    Call it before the caller's transaction, so the refusal event is kept.
    """
    return ensure_allowed_for(person_or_id, purposes=[purpose], use=use)


# Asked before every disclosure (each check of the partners' API): compiled once.
_ACTIVE_RESTRICTIONS = PreparedQuery(
    lambda subject_id, *purposes: Restriction.objects.active().filter(
        subject_id=subject_id, purpose__in=purposes
    )
)


def ensure_allowed_for(
    person_or_id: Any, *, purposes: Iterable[Purpose | str], use: str
) -> dict | None:
    """:func:`ensure_allowed` for a use that serves several purposes, asked in one query (a
    disclosure to a recipient of several purposes): refused if a restriction covers any of
    them, allowed under overrides only if every covering restriction has one for ``use``."""
    if use == STORAGE:
        return None
    if use not in _uses:
        raise ValueError(
            f"use {use!r} is not declared: call restrictions.register_use() in the app's privacy.py"
        )
    codes = [str(purpose_code(p)) for p in purposes]
    if not codes:
        raise ValueError("a use serves at least one purpose")
    restrictions = _ACTIVE_RESTRICTIONS(subject_id_of(person_or_id), *codes, ALL_PURPOSES)
    if not restrictions:
        return None
    now = timezone.now()
    used = []
    for restriction in restrictions:
        override = restriction.override_for(use, now)
        if override is None:
            # The purpose the use was refused for: the restriction's own, or the first asked
            # when it covers them all.
            refused = restriction.purpose if restriction.purpose in codes else codes[0]
            with transaction.atomic():
                audit.record(
                    RestrictionTag.REFUSE,
                    subject=restriction.subject_id,
                    target=restriction,
                    details={"use": use, "purpose": refused},
                )
            raise ProcessingRestricted(restriction, use)
        used.append((restriction, override))
    with transaction.atomic():
        for restriction, override in used:
            audit.record(
                RestrictionTag.OVERRIDE_USE,
                actor=None,
                subject=restriction.subject_id,
                target=restriction,
                details={"use": use, "override_at": override["at"]},
            )
    return used[0][1]


def start(
    *,
    subject: Any,
    purpose: Purpose | str,
    ground: str,
    reason: str,
    actor=None,
    source: str = "",
) -> Restriction:
    """Stop every use but storage of the person's data for ``purpose`` (or ``"*"``).

    Idempotent: an active restriction with the same person, purpose and ground is returned as is.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RestrictionError("Indiquez le motif de la limitation.")
    if ground not in RestrictionGround.values:
        raise RestrictionError(f"Fondement inconnu : {ground}.")
    code = str(purpose_code(purpose))
    subject_id = subject_id_of(subject)
    with transaction.atomic():
        existing = (
            Restriction.objects.active()
            .select_for_update()
            .filter(subject_id=subject_id, purpose=code, ground=ground)
            .first()
        )
        if existing is not None:
            return existing
        restriction = Restriction.objects.create(
            subject_id=subject_id,
            purpose=code,
            ground=ground,
            reason=reason,
            source=source[:150],
            started_by=_actor_label(actor),
        )
        audit.record(
            RestrictionTag.START,
            actor=actor,
            subject=subject_id,
            target=restriction,
            details={"purpose": code, "ground": ground, "source": source[:150]},
        )
    return restriction


def record_lift_notice(*, restriction: Restriction, actor=None) -> Restriction:
    """Record that the person was told the restriction will be lifted (GDPR art. 18(3)).

    The caller (the rights app) sends the notice itself; this records when.
    """
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if restriction.lifted_at is not None:
            raise RestrictionError("Cette limitation est déjà levée.")
        restriction.notice_sent_at = timezone.now()
        restriction.save(update_fields=["notice_sent_at"])
        audit.record(
            RestrictionTag.NOTICE, actor=actor, subject=restriction.subject_id, target=restriction
        )
    return restriction


def lift(*, restriction: Restriction, actor=None) -> Restriction:
    """Lift a restriction. One the person asked for is lifted only once they were told first
    (GDPR art. 18(3)); an objection or an erasure's archive has no such notice."""
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if restriction.lifted_at is not None:
            return restriction
        if restriction.ground == RestrictionGround.RESTRICTION and not restriction.notice_sent_at:
            raise RestrictionError(
                "La personne doit être informée avant la levée de la limitation "
                "(RGPD art. 18(3)) : envoyez-lui d'abord l'avis de levée."
            )
        restriction.lifted_at = timezone.now()
        restriction.lifted_by = _actor_label(actor)
        restriction.save(update_fields=["lifted_at", "lifted_by"])
        audit.record(
            RestrictionTag.LIFT,
            actor=actor,
            subject=restriction.subject_id,
            target=restriction,
            details={"ground": restriction.ground},
        )
    return restriction


def allow_for_legal_claims(
    *,
    restriction: Restriction,
    use: str,
    reason: str,
    actor,
    until: datetime.datetime | None = None,
) -> Restriction:
    """Record the DPO's override: ``use`` is allowed despite the restriction, for the
    establishment, exercise or defence of legal claims (GDPR art. 18(2)). ``use`` is an audit tag
    or ``"*"``; the override lasts until ``until`` (or while the restriction lasts)."""
    permission = override_permission()
    if not (permission and getattr(actor, "has_perm", None) and actor.has_perm(permission)):
        raise RestrictionError(
            "Seul le délégué à la protection des données peut autoriser une exception."
        )
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise RestrictionError(
            "Indiquez le droit en justice en cause (5 caractères au moins) pour cette exception."
        )
    use = (use or "").strip()
    if not use:
        raise RestrictionError("Indiquez l'utilisation autorisée.")
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if restriction.lifted_at is not None:
            raise RestrictionError("Cette limitation est déjà levée.")
        entry = {
            "at": timezone.now().isoformat(),
            "by": _actor_label(actor),
            "use": use,
            "reason": reason[:500],
            "until": until.isoformat() if until else "",
        }
        restriction.overrides = [*(restriction.overrides or []), entry]
        restriction.save(update_fields=["overrides"])
        audit.record(
            RestrictionTag.OVERRIDE,
            actor=actor,
            subject=restriction.subject_id,
            target=restriction,
            details={"use": use, "until": entry["until"]},
        )
    return restriction


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor._meta.model_name}:{actor.pk}" if hasattr(actor, "_meta") else str(actor)
