"""The DPO's privacy pages: retention (what the rules will do, what they did), legal holds, the
Art. 30 register and the audit log.

Everything shown is read from the declaration, the retention engine and the audit log; the only
writes are placing and releasing a legal hold, through :mod:`mutualis.privacy.retention` (audited).
People are named by member number or id, never by NIR or IBAN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from mutualis.audit.models import Event
from mutualis.audit.verify import Verification, verify_chain
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.privacy.forms import (
    AuditFilterForm,
    PersonHoldForm,
    RecordHoldForm,
    SimulationForm,
    known_tags,
    model_name,
)
from mutualis.members.models import Member, User, UserKind
from mutualis.members.roles import Permission
from mutualis.privacy import holds as legal_holds
from mutualis.privacy import promises, retention
from mutualis.privacy.management.commands.privacy_register import as_csv
from mutualis.privacy.models import LegalHold, RetentionRun
from mutualis.privacy.policy import processing_entries

RUNS_SHOWN = 20
# The promises the retention page shows: e-mails (T1), retention stages (T2), erasure (T5).
RETENTION_PROMISES = ("T1", "T2", "T5")
RELEASED_HOLDS_SHOWN = 50
EVENTS_PER_PAGE = 50

STAGE_LABELS = {
    retention.Stage.ARCHIVE: "archivage intermédiaire",
    retention.Stage.END: "suppression ou anonymisation",
    retention.Stage.PEOPLE: "effacement de ce que plus rien ne retient",
}


def _name_of(label: str) -> str:
    """``app_label.Model`` in French, or the label itself for a model that no longer exists."""
    try:
        return model_name(apps.get_model(label))
    except (LookupError, ValueError):
        return label


# --- Retention: what the rules will do, what they did ------------------------------------------
@dataclass(frozen=True)
class PlannedRule:
    name: str
    label: str
    summary: str
    source: str
    anchor_field: str
    anchor: str
    to_archive: int | None  # None: the rule has no intermediate archive
    to_end: int
    end_action: str


@dataclass(frozen=True)
class PlannedSweep:
    name: str
    label: str
    rows: int
    erases_people: bool


@dataclass(frozen=True)
class RunLine:
    name: str
    label: str
    stage: str
    rows: int
    batches: int


@dataclass(frozen=True)
class RunSummary:
    run: RetentionRun
    lines: list[RunLine]
    total: int


def _plan(now) -> tuple[list[PlannedRule], list[PlannedSweep]]:
    """The dry run of every rule at ``now``: counts only, nothing is changed."""
    report = retention.plan(now)
    counts = {(step.model, step.stage): step.rows for step in report.steps}
    rules = [
        PlannedRule(
            name=model_name(target.model),
            label=target.label,
            summary=target.rule.summary,
            source=target.rule.source,
            anchor_field=target.anchor,
            anchor=target.rule.anchor.label,
            to_archive=counts.get((target.label, retention.Stage.ARCHIVE)),
            to_end=counts.get((target.label, retention.Stage.END), 0),
            end_action=target.rule.end_action.label,
        )
        for target in retention.targets()
    ]
    sweeps = [
        PlannedSweep(
            name=_name_of(declaration.model),
            label=declaration.model,
            rows=counts.get((declaration.model, retention.Stage.PEOPLE), 0),
            erases_people=bool(declaration.person_key_field),
        )
        for declaration in retention.sweep_declarations()
    ]
    return rules, sweeps


def _summarise(run: RetentionRun) -> RunSummary:
    lines = [
        RunLine(
            name=_name_of(str(step.get("model", ""))),
            label=str(step.get("model", "")),
            stage=STAGE_LABELS.get(step.get("stage"), str(step.get("stage", ""))),
            rows=int(step.get("rows") or 0),
            batches=int(step.get("batches") or 0),
        )
        for step in (run.report if isinstance(run.report, list) else [])
        if isinstance(step, dict)
    ]
    lines = [line for line in lines if line.rows]
    return RunSummary(run=run, lines=lines, total=sum(line.rows for line in lines))


@staff_view(Permission.RETENTION_VIEW)
@require_safe
def retention_overview(request: HttpRequest) -> HttpResponse:
    """What each rule will do (a dry run, computed now) and what the last runs did."""
    form = SimulationForm(request.GET if "au" in request.GET else None)
    moment = form.moment()
    rules, sweeps = _plan(moment)
    context = {
        "form": form,
        "moment": moment,
        "simulated": timezone.localdate(moment) != timezone.localdate(),
        "rules": rules,
        "sweeps": sweeps,
        "planned_total": sum(r.to_end + (r.to_archive or 0) for r in rules)
        + sum(s.rows for s in sweeps),
        # The retention promises are checked against today, whatever date is simulated (the
        # nightly privacy_check runs them all).
        "breaches": [
            f"{result.promise.code} — {breach}"
            for result in promises.run(timezone.now(), only=RETENTION_PROMISES)
            for breach in result.breaches
        ],
        "runs": [
            _summarise(run)
            for run in RetentionRun.objects.order_by("-started_at", "-pk")[:RUNS_SHOWN]
        ],
    }
    return render_page(request, "backoffice/privacy/retention.html", context)


# --- Legal holds --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HoldRow:
    hold: LegalHold
    scope: str
    created_by: str
    released_by: str


def _staff_names(labels: set[str]) -> dict[str, str]:
    """``user:<pk>`` labels of staff accounts → their display names (others stay as they are)."""
    pks = {label.split(":", 1)[1] for label in labels if label.startswith("user:")}
    pks = {pk for pk in pks if pk.isdigit()}
    accounts = User.objects.filter(pk__in=pks, kind=UserKind.STAFF).only("pk", "display_name")
    return {f"user:{u.pk}": u.display_name or u.email for u in accounts}


def _hold_rows(holds: list[LegalHold]) -> list[HoldRow]:
    person_ids = {h.subject_id for h in holds if h.subject_id}
    numbers = dict(
        Member.objects.filter(person_id__in=person_ids).values_list("person_id", "number")
    )
    numbers = {str(pk): number for pk, number in numbers.items()}
    names = _staff_names({h.created_by for h in holds} | {h.released_by for h in holds})
    rows = []
    for hold in holds:
        if hold.subject_id:
            number = numbers.get(hold.subject_id)
            scope = f"Personne {hold.subject_id}" + (f" (adhérent n° {number})" if number else "")
        else:
            label, _, pk = hold.target.partition(":")
            scope = f"{_name_of(label)} n° {pk}"
        rows.append(
            HoldRow(
                hold=hold,
                scope=scope,
                created_by=names.get(hold.created_by, hold.created_by),
                released_by=names.get(hold.released_by, hold.released_by),
            )
        )
    return rows


def _holds_page(
    request: HttpRequest,
    *,
    person_form: PersonHoldForm | None = None,
    record_form: RecordHoldForm | None = None,
) -> HttpResponse:
    active = list(LegalHold.objects.active())
    released = list(
        LegalHold.objects.filter(released_at__isnull=False).order_by("-released_at")[
            :RELEASED_HOLDS_SHOWN
        ]
    )
    rows = _hold_rows(active + released)
    context = {
        "active": rows[: len(active)],
        "released": rows[len(active) :],
        "can_manage": request.user.has_perm(Permission.HOLD_MANAGE),
        "person_form": person_form or PersonHoldForm(prefix="personne"),
        "record_form": record_form or RecordHoldForm(prefix="enregistrement"),
    }
    return render_page(request, "backoffice/privacy/holds.html", context)


@staff_view(Permission.RETENTION_VIEW)
@require_safe
def holds(request: HttpRequest) -> HttpResponse:
    return _holds_page(request)


@staff_view(Permission.HOLD_MANAGE)
@require_POST
def hold_place_person(request: HttpRequest) -> HttpResponse:
    form = PersonHoldForm(request.POST, prefix="personne")
    if form.is_valid():
        try:
            legal_holds.place_hold(
                reason=form.cleaned_data["reason"], actor=request.user, subject=form.person_id
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Gel posé sur les données de l'adhérent n° {form.cleaned_data['member_number']} "
                ": leur conservation est suspendue jusqu'à sa levée.",
            )
            return redirect("backoffice:holds")
    form.scrub()
    return _holds_page(request, person_form=form)


@staff_view(Permission.HOLD_MANAGE)
@require_POST
def hold_place_record(request: HttpRequest) -> HttpResponse:
    form = RecordHoldForm(request.POST, prefix="enregistrement")
    if form.is_valid():
        try:
            legal_holds.place_hold(
                reason=form.cleaned_data["reason"], actor=request.user, target=form.record
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Gel posé sur l'enregistrement {model_name(type(form.record))} "
                f"n° {form.record.pk} : sa conservation est suspendue jusqu'à sa levée.",
            )
            return redirect("backoffice:holds")
    form.scrub()
    return _holds_page(request, record_form=form)


@staff_view(Permission.HOLD_MANAGE)
@require_POST
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = get_object_or_404(LegalHold, pk=hold_id)
    if hold.released_at is not None:
        messages.info(request, f"Le gel n° {hold.pk} était déjà levé.")
    else:
        legal_holds.release_hold(hold=hold, actor=request.user)
        messages.success(
            request,
            f"Gel n° {hold.pk} levé : les règles de conservation s'appliquent de nouveau.",
        )
    return redirect("backoffice:holds")


# --- The Art. 30 register -----------------------------------------------------------------------
@staff_view(Permission.REGISTER_VIEW)
@require_safe
def processing_register(request: HttpRequest) -> HttpResponse:
    """The same content as ``manage.py privacy_register --format html`` (same template)."""
    context = {"entries": processing_entries(), "today": timezone.localdate()}
    return render_page(request, "backoffice/privacy/register.html", context)


@staff_view(Permission.REGISTER_VIEW, recent_auth=True)
@require_safe
def processing_register_csv(request: HttpRequest) -> HttpResponse:
    """``manage.py privacy_register --format csv``, with a byte-order mark for spreadsheets."""
    response = HttpResponse(
        "\ufeff" + as_csv(processing_entries()), content_type="text/csv; charset=utf-8"
    )
    filename = f"registre-des-traitements-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- The audit log ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventRow:
    event: Event
    details: str


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and re.fullmatch(r"[0-9]{1,18}", value) else None


def _audit_page(
    request: HttpRequest,
    verification: Verification | None = None,
    posted_filter: AuditFilterForm | None = None,
) -> HttpResponse:
    """The latest events, newest first, a page at a time by event id (keyset): the log only
    grows, so neither a count of it nor an offset into it is ever needed. Each event shows its
    number in the chain, or that it waits for the sequencer."""
    form = posted_filter or AuditFilterForm(request.GET if request.method != "POST" else None)
    events = Event.objects.select_related("link").order_by("-id")
    if form.is_bound and not form.is_valid():
        events = events.none()
    elif form.is_bound:
        if form.cleaned_data["personne"]:
            events = events.filter(subject_id=form.cleaned_data["personne"])
        if form.cleaned_data["nature"]:
            events = events.filter(tag__startswith=form.cleaned_data["nature"])
    before = _positive_int(request.GET.get("avant")) if request.method != "POST" else None
    if before is not None:
        events = events.filter(id__lt=before)
    page = list(events[: EVENTS_PER_PAGE + 1])
    older = page[EVENTS_PER_PAGE - 1].pk if len(page) > EVENTS_PER_PAGE else None
    page = page[:EVENTS_PER_PAGE]
    form.scrub()
    context = {
        "form": form,
        "filtered": form.is_bound and form.is_valid() and any(form.cleaned_data.values()),
        "rows": [
            EventRow(event, json.dumps(event.details, ensure_ascii=False, sort_keys=True))
            for event in page
        ],
        "before": before,
        "older": older,
        "tags": known_tags(),
        "verification": verification,
    }
    return render_page(request, "backoffice/privacy/audit_log.html", context)


@staff_view(Permission.AUDIT_VIEW)
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    return _audit_page(request)


@staff_view(Permission.AUDIT_VIEW)
@require_POST
def audit_filter(request: HttpRequest) -> HttpResponse:
    """The filter form posts, so that a NIR typed in it by mistake never reaches an address or
    a server log; a valid filter comes back as a link holding only a person's id and a tag."""
    form = AuditFilterForm(request.POST)
    if not form.is_valid():
        return _audit_page(request, posted_filter=form)
    query = {name: value for name, value in form.cleaned_data.items() if value}
    target = reverse("backoffice:audit_log")
    return redirect(f"{target}?{urlencode(query)}" if query else target)


@staff_view(Permission.AUDIT_VIEW)
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Recompute every hash and link of the chain (read-only), as ``manage.py audit_verify``."""
    return _audit_page(request, verification=verify_chain())
