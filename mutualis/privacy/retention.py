"""The retention engine: active → intermediate archive → deleted or anonymised (architecture.md §6).

Every declared model with a retention anchor is a *target*. Its rule (the model's own, or its
purpose's) gives two cut-offs measured back from "now":

- rows whose anchor is older than the active duration move to the intermediate archive
  (``archived_at`` is set: only the DPO sees them, services treat them as restricted);
- rows whose anchor is older than active + archive are deleted, or anonymised (their declared
  personal fields cleared and ``anonymised_field`` set).

Rows under an active legal hold (on their person or on themselves, :mod:`mutualis.privacy.holds`)
are left alone; a NULL anchor
(an open contract, an unanswered complaint) keeps a row active.

Work is set-based and batched: each batch selects up to ``batch_size`` primary keys, applies one
UPDATE or DELETE to them and records one audit event, in one transaction. With
``batch_seconds``, the size adapts to the database (:class:`BatchSize`): batches grow while they
are quick and shrink when one holds its locks too long, so a large backlog is not paid for in
per-batch overhead and a live database is never locked for long. A run killed at any
moment leaves only whole batches done, and a rerun picks up the rest, so an interrupted run and
a clean one end in the same state. Finally, people no record refers to any more are deleted
after their data key is shredded (crypto-shredding).

On PostgreSQL a batch commits without waiting for its WAL to reach the disk
(``synchronous_commit = off`` for that transaction only). A crash can then lose the last batches
committed, but each one whole — its rows and its audit event together, never one without the
other — and a rerun does them again. The run's closing audit event commits synchronously, which
flushes the WAL of every batch before it: once ``enforce_retention`` has returned, all of it is
durable. A per-batch disk flush would otherwise cost more than the batch's own work.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connections, models, router, transaction
from django.db.models import lookups
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.module_loading import import_string

from mutualis import audit
from mutualis.audit.tags import Tag
from mutualis.lib.dates import add_months
from mutualis.privacy import holds, registry
from mutualis.privacy.declaration import Duration, EndAction, ModelDeclaration, RetentionRule

ARCHIVED_FIELD = "archived_at"
GROWTH_LIMIT = 8.0  # how much faster than the last batch the next one may be
_clock = time.perf_counter  # how long a batch holds its locks (BatchSize)


class RetentionTag(Tag):
    ARCHIVE = "privacy:retention:archive"
    DELETE = "privacy:retention:delete"
    ANONYMISE = "privacy:retention:anonymise"
    PERSON_ERASE = "privacy:person:erase"
    RUN = "privacy:retention:run"


class Stage:
    ARCHIVE = "archive"
    END = "end"
    PEOPLE = "people"


def cutoff(now: datetime.datetime, duration: Duration) -> datetime.datetime:
    """``now`` minus a legal duration (calendar months, then days), in local time."""
    local = timezone.localtime(now)
    day = add_months(local.date(), -duration.months) - datetime.timedelta(days=duration.days)
    return local.replace(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class Target:
    declaration: ModelDeclaration
    model: type[models.Model]
    rule: RetentionRule

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def anchor(self) -> str:
        return self.declaration.retention_anchor

    @property
    def has_archive(self) -> bool:
        return not self.rule.archive.is_zero

    def _anchor_bound(self, moment: datetime.datetime):
        field_obj = _resolve(self.model, self.anchor)
        if isinstance(field_obj, models.DateTimeField):
            return moment
        return timezone.localtime(moment).date()

    def base(self, **lookups) -> models.QuerySet:
        lookups = {
            **dict(self.declaration.retention_scope),
            f"{self.anchor}__isnull": False,
            **lookups,
        }
        qs = _filter_without_joins(self.model, lookups)
        return holds.exclude_held(qs, subject_field=self.declaration.subject_field)

    def due_for_archive(self, now: datetime.datetime) -> models.QuerySet:
        bound = self._anchor_bound(cutoff(now, self.rule.active))
        return self.base(**{f"{ARCHIVED_FIELD}__isnull": True, f"{self.anchor}__lt": bound})

    @property
    def total(self) -> Duration:
        return Duration(
            months=self.rule.active.months + self.rule.archive.months,
            days=self.rule.active.days + self.rule.archive.days,
        )

    def due_for_end(self, now: datetime.datetime) -> models.QuerySet:
        lookups = {f"{self.anchor}__lt": self._anchor_bound(cutoff(now, self.total))}
        if self.rule.end_action == EndAction.ANONYMISE:
            lookups[f"{self.declaration.anonymised_field}__isnull"] = True
        return self.base(**lookups)


def _filter_without_joins(model: type[models.Model], lookups: dict) -> models.QuerySet:
    """``model.filter(**lookups)`` with lookups across a foreign key turned into ``fk__in``
    subqueries, so that batch statements stay plain ``DELETE/UPDATE ... WHERE`` on one table
    (a join would make the database rebuild the batch's key list first)."""
    local: dict = {}
    remote: dict[str, dict] = {}
    for lookup, value in lookups.items():
        head, _, rest = lookup.partition("__")
        field_obj: Any = model._meta.get_field(head)
        if (
            rest
            and field_obj.many_to_one
            and rest.split("__")[0] in {f.name for f in field_obj.related_model._meta.get_fields()}
        ):
            remote.setdefault(field_obj.attname, {})[rest] = value
        else:
            local[lookup] = value
    qs = model._default_manager.filter(**local)
    for attname, sub in remote.items():
        related: Any = model._meta.get_field(attname.removesuffix("_id")).related_model
        qs = qs.filter(**{f"{attname}__in": _filter_without_joins(related, sub).values("pk")})
    return qs


def _resolve(model: type[models.Model], path: str) -> Any:
    current: Any = model
    field_obj: Any = None
    for part in path.split("__"):
        field_obj = current._meta.get_field(part)
        if field_obj.is_relation and field_obj.related_model is not None:
            current = field_obj.related_model
    return field_obj


def targets(only_app: str | None = None) -> list[Target]:
    """The models with a retention rule, a model that refers to another with ``PROTECT``
    before it (so that, both due the same day, the referring rows go first), by label otherwise.
    """
    found = []
    for declaration in registry.all_declarations():
        rule = declaration.retention_rule
        if not declaration.retention_anchor or rule is None:
            continue
        model = apps.get_model(declaration.model)
        if only_app and model._meta.app_label != only_app:
            continue
        found.append(Target(declaration, model, rule))
    return _referring_first(found)


def _referring_first(found: list[Target]) -> list[Target]:
    models_ = {t.model for t in found}
    before: dict[Any, set] = {t.model: set() for t in found}  # model -> models to go first
    for target in found:
        for field_obj in target.model._meta.concrete_fields:
            remote = field_obj.related_model if field_obj.is_relation else None
            on_delete = getattr(getattr(field_obj, "remote_field", None), "on_delete", None)
            if remote in models_ and remote is not target.model and on_delete is models.PROTECT:
                before[remote].add(target.model)
    ordered: list[Target] = []
    placed: set = set()
    pending = list(found)
    while pending:
        ready = [t for t in pending if before[t.model] <= placed]
        if not ready:  # a cycle: keep the label order for what is left
            ready = pending[:1]
        target = ready[0]
        ordered.append(target)
        placed.add(target.model)
        pending.remove(target)
    return ordered


def sweep_declarations(only_app: str | None = None) -> list[ModelDeclaration]:
    """Declarations swept when unreferenced; people (with a key to shred) come last."""
    found = [
        d
        for d in registry.all_declarations()
        if d.sweep_unreferenced
        and (only_app is None or apps.get_model(d.model)._meta.app_label == only_app)
    ]
    return sorted(found, key=lambda d: (bool(d.person_key_field), d.model))


# --- Actions on one batch of primary keys -----------------------------------------------------
def _delete(model: type[models.Model], qs: models.QuerySet) -> int:
    return _delete_set(model, qs)


def _delete_set(model: type[models.Model], qs: models.QuerySet) -> int:
    """Delete ``qs`` and what cascades from it with set-based statements (no rows in memory).

    Rows pointing here with CASCADE are deleted first (recursively), with SET_NULL are detached;
    any other rule (PROTECT, signals to honour) falls back to Django's collector.
    """
    using = router.db_for_write(model)
    if Collector(using=using).can_fast_delete(qs):
        return qs._raw_delete(using)
    relations: list[Any] = [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete
    ]
    if any(r.on_delete not in (models.CASCADE, models.SET_NULL) for r in relations):
        return qs.delete()[1].get(model._meta.label, 0)
    keys = qs.values("pk")
    for relation in relations:
        child = relation.related_model
        children = child._base_manager.filter(**{f"{relation.field.attname}__in": keys})
        if relation.on_delete is models.CASCADE:
            _delete_set(child, children)
        else:
            children.update(**{relation.field.attname: None})
    return qs._raw_delete(using)


def _anonymise(target: Target, qs: models.QuerySet, now: datetime.datetime) -> int:
    values: dict[str, object] = {target.declaration.anonymised_field: now}
    for name in target.declaration.fields:
        field_obj = target.model._meta.get_field(name)
        if field_obj.many_to_many or getattr(field_obj, "is_encrypted", False):
            continue
        if field_obj.null:
            values[name] = None
        elif isinstance(field_obj, models.CharField | models.TextField):
            values[name] = ""
    return qs.update(**values)


@dataclass
class StepReport:
    model: str
    stage: str
    rows: int = 0
    batches: int = 0

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "stage": self.stage,
            "rows": self.rows,
            "batches": self.batches,
        }


@dataclass
class Report:
    as_of: datetime.datetime
    dry_run: bool
    steps: list[StepReport] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(step.rows for step in self.steps)

    def as_list(self) -> list[dict]:
        return [step.as_dict() for step in self.steps]


@dataclass
class BatchSize:
    """Rows per batch. With ``seconds`` set, adapted after each batch: while a batch takes under
    half of ``seconds``, grown toward the size that would take ``seconds`` (at most eight
    times, never above ``ceiling``); halved (down to a sixteenth of the starting
    size) when one takes over twice as long. Without it, fixed.

    Growing in proportion reaches the right size in a batch or two where doubling took several:
    each batch has a cost of its own (on SQLite, its commit rewrites every index page it
    touched, however few of its rows each page holds), so a backlog done in small batches costs
    several times the work."""

    rows: int
    seconds: float | None = None
    ceiling: int = 200_000

    def __post_init__(self) -> None:
        self.floor = max(1, self.rows // 16)

    def after(self, elapsed: float) -> None:
        if self.seconds is None:
            return
        if elapsed < self.seconds / 2:
            factor = min(GROWTH_LIMIT, self.seconds / max(elapsed, 1e-6))  # over 2 here
            self.rows = max(self.rows, min(self.ceiling, int(self.rows * factor)))
        elif elapsed > self.seconds * 2:
            self.rows = max(self.floor, self.rows // 2)


class _AnyOfArray(models.Lookup):
    """``key = ANY(ARRAY(subquery))``: PostgreSQL evaluates the subquery once, then fetches each
    key through the primary-key index. ``key IN (subquery ... LIMIT n)`` is planned as a semi
    join that scans the whole table for every batch."""

    lookup_name = "any_of_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _limit_batches(qs: models.QuerySet, size: BatchSize) -> Iterator[models.QuerySet]:
    """Batches for one-statement actions: ``pk IN (SELECT pk ... LIMIT n)``.

    The database evaluates the subquery: no list of keys travels through Python. Rows a batch
    handles stop matching ``qs`` (deleted, archived, anonymised), so each batch finds the next
    rows, and a rerun after an interruption finds what is left.
    """
    manager = qs.model._base_manager
    postgresql = connections[router.db_for_write(qs.model)].vendor == "postgresql"
    while True:
        keys = models.Subquery(qs.order_by().values("pk")[: size.rows])
        if postgresql:
            yield manager.filter(_AnyOfArray(models.F("pk"), keys))
        else:
            yield manager.filter(pk__in=keys)


class _KeyBound:
    """A key bound of a range batch, a filter and not a way in: on SQLite written ``+pk``,
    which keeps the planner from entering by the primary-key range. It would then read every
    row of the range, due or not, for each statement of the batch (0.1 s or more each at
    100,000 members), where the rule's own index finds the due rows."""

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)  # type: ignore[misc]
        return (f"+{sql}" if connection.vendor == "sqlite" else sql), params


class _KeyAbove(_KeyBound, lookups.GreaterThan):
    """``pk > bound`` (see :class:`_KeyBound`)."""


class _KeyUpTo(_KeyBound, lookups.LessThanOrEqual):
    """``pk <= bound`` (see :class:`_KeyBound`)."""


def _range_batches(qs: models.QuerySet, size: BatchSize) -> Iterator[models.QuerySet]:
    """Batches for actions made of several statements (a delete that cascades), which must all
    see the same rows: consecutive primary-key ranges (keyset pagination), each the rows of
    ``qs`` with a key in (previous bound, bound]."""
    last = None
    while True:
        page = qs if last is None else qs.filter(_KeyAbove(models.F("pk"), last))
        keys = page.order_by("pk").values_list("pk", flat=True)
        bound = next(iter(keys[size.rows - 1 : size.rows]), None)
        if bound is None:
            bound = page.order_by("-pk").values_list("pk", flat=True).first()
            if bound is None:
                return
        yield page.filter(_KeyUpTo(models.F("pk"), bound))
        last = bound


def _run_stage(
    step: StepReport,
    qs: models.QuerySet,
    action: Callable[[models.QuerySet], int],
    tag: str,
    *,
    size: BatchSize,
    dry_run: bool,
    progress: Callable[[int], None],
    stable: bool = True,
) -> None:
    if dry_run:
        step.rows = qs.count()
        progress(step.rows)
        return
    batches = _range_batches(qs, size) if stable else _limit_batches(qs, size)
    using = router.db_for_write(qs.model)
    for batch in batches:
        started = _clock()
        with transaction.atomic(using=using):
            _commit_without_flush(using)
            rows = action(batch)
            if rows:
                audit.record(
                    tag, details={"model": step.model, "rows": rows, "batch": step.batches + 1}
                )
        size.after(_clock() - started)
        if not rows:
            if stable:
                continue  # a range may hold no row to act on; the next range may
            return
        step.rows += rows
        step.batches += 1
        progress(rows)


def default_batch_seconds(using: str = "default") -> float:
    """How long a batch may hold its locks by default. PostgreSQL: one second. SQLite: three —
    its commits rewrite every page a batch touched in the random-key indexes, so short batches
    cost several times the work (readers are never blocked there, in WAL mode, and writers wait
    up to the 20-second busy timeout of the settings)."""
    return 3.0 if connections[using].vendor == "sqlite" else 1.0


def _commit_without_flush(using: str) -> None:
    """Let the current PostgreSQL transaction commit without waiting for the WAL flush (see
    the module docstring); a no-op elsewhere."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def plan(now: datetime.datetime | None = None, only_app: str | None = None) -> Report:
    """What each rule would do now (the DPO's dry-run view)."""
    return enforce(now=now, only_app=only_app, dry_run=True)


def enforce(
    *,
    now: datetime.datetime | None = None,
    only_app: str | None = None,
    dry_run: bool = False,
    batch_size: int = 5000,
    batch_seconds: float | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> Report:
    """Apply every rule (see module docstring). Returns the counts per rule and stage."""
    now = now or timezone.now()
    report = Report(as_of=now, dry_run=dry_run)
    for target in targets(only_app):
        if target.has_archive and has_field(target.model, ARCHIVED_FIELD):
            step = StepReport(target.label, Stage.ARCHIVE)
            report.steps.append(step)
            model = target.model
            _run_stage(
                step,
                target.due_for_archive(now),
                lambda batch: batch.update(**{ARCHIVED_FIELD: now}),
                RetentionTag.ARCHIVE,
                size=BatchSize(batch_size, batch_seconds),
                dry_run=dry_run,
                progress=progress,
                stable=False,
            )
        step = StepReport(target.label, Stage.END)
        report.steps.append(step)
        if target.declaration.retention_handler:
            handler = import_string(target.declaration.retention_handler)
            step.rows, step.batches = handler(
                before=cutoff(now, target.total), batch_size=batch_size, dry_run=dry_run
            )
            progress(step.rows)
            continue
        if target.rule.end_action == EndAction.ANONYMISE:
            action = lambda batch, t=target: _anonymise(t, batch, now)  # noqa: E731
            tag, stable = RetentionTag.ANONYMISE, False
        else:
            action = lambda batch, m=target.model: _delete(m, batch)  # noqa: E731
            tag, stable = RetentionTag.DELETE, not _fast_deletable(target.model)
        _run_stage(
            step,
            target.due_for_end(now),
            action,
            tag,
            size=BatchSize(batch_size, batch_seconds),
            dry_run=dry_run,
            progress=progress,
            stable=stable,
        )
    for declaration in sweep_declarations(only_app):
        step = StepReport(declaration.model, Stage.PEOPLE)
        report.steps.append(step)
        if declaration.person_key_field:
            action, tag = (
                (lambda batch, d=declaration: _erase_people(d, batch)),
                RetentionTag.PERSON_ERASE,
            )
        else:
            model = apps.get_model(declaration.model)
            action, tag = (
                (lambda batch, m=model: batch.delete()[1].get(m._meta.label, 0)),
                RetentionTag.DELETE,
            )
        _run_stage(
            step,
            unreferenced(declaration),
            action,
            tag,
            size=BatchSize(batch_size, batch_seconds),
            dry_run=dry_run,
            progress=progress,
        )
    return report


def _fast_deletable(model: type[models.Model]) -> bool:
    """True when deleting rows is one statement (nothing cascades, no signal listens)."""
    return Collector(using=router.db_for_write(model)).can_fast_delete(model._base_manager.all())


def has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def unreferenced(declaration: ModelDeclaration) -> models.QuerySet:
    """Rows nothing keeps any more: no non-cascading relation points at them, no legal hold."""
    model = apps.get_model(declaration.model)
    qs = model._default_manager.filter(**dict(declaration.retention_scope))
    for relation in model._meta.related_objects:
        if relation.on_delete is models.CASCADE:
            continue  # such rows go with it
        qs = qs.filter(**{f"{relation.name}__isnull": True})
    return holds.exclude_held(qs, subject_field=declaration.subject_field)


def _erase_people(declaration: ModelDeclaration, batch: models.QuerySet) -> int:
    """Shred each person's data key, then delete the rows (and keys)."""
    from mutualis.vault.models import DataKey
    from mutualis.vault.services import shred

    model = apps.get_model(declaration.model)
    pks = list(batch.values_list("pk", flat=True))
    key_attname = model._meta.get_field(declaration.person_key_field).attname
    key_ids = list(model._default_manager.filter(pk__in=pks).values_list(key_attname, flat=True))
    for key in DataKey.objects.filter(pk__in=key_ids, wrapped_key__isnull=False):
        shred(key)
    model._default_manager.filter(pk__in=pks).delete()
    DataKey.objects.filter(pk__in=key_ids)._raw_delete(DataKey.objects.db)
    return len(pks)
