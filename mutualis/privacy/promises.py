"""Checks of the live database against every promise of the policy that can be checked.

Built in: no record past its retention stage (which covers "no e-mail body older than three
months", a stage of its own), no shredded person with readable data. Apps add theirs (deadlines
of complaints and rights requests) with :func:`register`. ``manage.py privacy_check`` runs them
all and exits non-zero listing each breach; breaches name records by id, never by content.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.utils import timezone

from mutualis.privacy import retention


@dataclass(frozen=True)
class Breach:
    promise: str
    detail: str

    def __str__(self) -> str:
        return f"{self.promise} : {self.detail}"


Check = Callable[[datetime.datetime], Iterable[Breach]]
_checks: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    def decorator(fn: Check) -> Check:
        _checks[name] = fn
        return fn

    return decorator


def _sample(qs: models.QuerySet, n: int = 5) -> str:
    pks = [str(pk) for pk in qs.order_by("pk").values_list("pk", flat=True)[:n]]
    return ", ".join(pks) + (" …" if qs.count() > n else "")


@register("conservation")
def records_past_their_stage(now: datetime.datetime) -> Iterable[Breach]:
    for target in retention.targets():
        if target.declaration.retention_handler:
            rows, _ = retention.import_string(target.declaration.retention_handler)(
                before=retention.cutoff(now, target.total), batch_size=1, dry_run=True
            )
            if rows:
                yield Breach(
                    "conservation",
                    f"{target.label} : {rows} enregistrement(s) au-delà de leur durée "
                    f"({target.rule.summary})",
                )
            continue
        stages = [("à supprimer ou anonymiser", target.due_for_end(now))]
        if target.has_archive and retention._has_field(target.model, retention.ARCHIVED_FIELD):
            stages.insert(0, ("à archiver", target.due_for_archive(now)))
        for label, qs in stages:
            count = qs.count()
            if count:
                yield Breach(
                    "conservation",
                    f"{target.label} : {count} enregistrement(s) {label} (n° {_sample(qs)}) — "
                    f"{target.rule.summary}",
                )


@register("effacement")
def shredded_people_with_readable_data(now: datetime.datetime) -> Iterable[Breach]:
    """A shredded key means the person is erased: no row may still point at that key."""
    from mutualis.vault.models import DataKey

    for model in apps.get_models():
        if not model.__module__.startswith("mutualis."):
            continue
        for field_obj in model._meta.concrete_fields:
            if field_obj.is_relation and field_obj.related_model is DataKey:
                qs = model._default_manager.filter(
                    **{f"{field_obj.name}__wrapped_key__isnull": True}
                )
                count = qs.count()
                if count:
                    yield Breach(
                        "effacement",
                        f"{model._meta.label} : {count} enregistrement(s) d'une personne effacée "
                        f"encore présents (n° {_sample(qs)})",
                    )


def run(now: datetime.datetime | None = None) -> list[Breach]:
    now = now or timezone.now()
    breaches: list[Breach] = []
    for check in _checks.values():
        breaches.extend(check(now))
    return breaches
