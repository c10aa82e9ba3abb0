"""Data-subject rights requests in the back office: the DPO's dashboard, registering a request
received by e-mail, letter, phone or in person, and the page of one request.

The writes (the steps of a request) are in :mod:`mutualis.backoffice.rights.actions`;
restrictions and deaths, by person, in :mod:`mutualis.backoffice.rights.people`. Every
view only calls :mod:`mutualis.rights.services`, which hold the rules, the audit and the mails.
A request outside the viewer's reach (``RightsRequest.objects.visible_to``) is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.rights import forms
from mutualis.backoffice.rights import register_forms as registering
from mutualis.backoffice.rights.charts import dashboard as dashboard_figures
from mutualis.members.models import Beneficiary, Member, Person, User, UserKind
from mutualis.members.roles import Permission
from mutualis.privacy import catalogue
from mutualis.privacy.restrictions import ALL_PURPOSES
from mutualis.rights import handlers, services
from mutualis.rights.deadlines import MAX_EXTENSION_MONTHS
from mutualis.rights.models import (
    Capacity,
    DirectiveScope,
    Kind,
    RequestEvent,
    RightsRequest,
    Status,
)
from mutualis.rights.post_mortem import HEIR_ACTIONS
from mutualis.rights.rectification import is_encrypted, label
from mutualis.rights.services import first_month_end

PAGE_SIZE = 50
Action = RequestEvent.Action
PURPOSE_TITLES = {p.code: p.title for p in catalogue.ALL_PURPOSES}


def purpose_title(code: str) -> str:
    return "Tous les usages" if code == ALL_PURPOSES else PURPOSE_TITLES.get(code, code)


def find_request(request: HttpRequest, request_id) -> RightsRequest:
    return get_object_or_404(
        RightsRequest.objects.visible_to(request.user).select_related(
            "person", "identity_checked_by"
        ),
        pk=request_id,
    )


def member_of(person: Person | None) -> Member | None:
    """The member file a person is part of: their own, or the one that covers them."""
    if person is None:
        return None
    member = Member.objects.filter(person=person).first()
    if member is not None:
        return member
    beneficiary = Beneficiary.objects.filter(person=person).select_related("member").first()
    return beneficiary.member if beneficiary else None


def actor_names(labels: set[str]) -> dict[str, str]:
    """Audit actor labels (``user:12``, ``system``) as the page names them."""
    pks = {label.split(":", 1)[1] for label in labels if label.startswith("user:")}
    accounts = User.objects.filter(pk__in={pk for pk in pks if pk.isdigit()}).only(
        "pk", "kind", "display_name", "email"
    )
    names = {"system": "traitement automatique", "anonymous": "personne non connectée"}
    for account in accounts:
        names[f"user:{account.pk}"] = (
            (account.display_name or account.email)
            if account.kind == UserKind.STAFF
            else "la personne, depuis son espace adhérent"
        )
    return names


@dataclass(frozen=True)
class Clock:
    """Where a request stands against its deadline, today."""

    days_left: int
    overdue: bool
    paused: bool

    @property
    def text(self) -> str:
        if self.paused:
            return "délai suspendu (justificatif d'identité demandé)"
        if self.days_left < 0:
            late = -self.days_left
            return f"dépassé de {late} jour{'s' if late > 1 else ''}"
        if self.days_left == 0:
            return "dernier jour"
        return f"{self.days_left} jour{'s' if self.days_left > 1 else ''}"


def clock(rights_request: RightsRequest, today) -> Clock:
    paused = rights_request.status == Status.AWAITING_IDENTITY
    days_left = (rights_request.due_date - today).days
    return Clock(
        days_left=days_left,
        overdue=rights_request.is_open and not paused and days_left < 0,
        paused=paused,
    )


# --- The dashboard -----------------------------------------------------------------------------
@staff_view(Permission.RIGHTS_VIEW)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open requests, the nearest deadline first, overdue ones flagged; the year in figures."""
    today = timezone.localdate()
    requests = RightsRequest.objects.visible_to(request.user)
    open_requests = requests.open().select_related("person").order_by("due_date", "received_at")
    page = Paginator(open_requests, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [{"item": item, "clock": clock(item, today)} for item in page],
        "overdue_count": requests.overdue(today).count(),
        "awaiting_count": requests.filter(status=Status.AWAITING_IDENTITY).count(),
        "figures": dashboard_figures(today),
        "can_register": request.user.has_perm(Permission.RIGHTS_REGISTER),
        "today": today,
    }
    return render_page(request, "backoffice/rights/dashboard.html", context)


# --- Registering a request ---------------------------------------------------------------------
def _was_merged(rights_request: RightsRequest) -> bool:
    last = rights_request.events.order_by("-at", "-pk").first()
    return last is not None and last.action == Action.MERGED


def _register_page(request: HttpRequest, form, *, status: int = 200) -> HttpResponse:
    context = {"form": form, "kinds": Kind, "capacity_self": Capacity.SELF}
    return render_page(request, "backoffice/rights/register.html", context, status=status)


@staff_view(Permission.RIGHTS_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """A request that came by e-mail, letter, phone or in person, from anyone."""
    if request.method != "POST":
        return _register_page(request, registering.RegisterRequestForm())
    form = registering.RegisterRequestForm(request.POST)
    if not form.is_valid():
        form.scrub()
        return _register_page(request, form, status=400)
    data = form.cleaned_data
    identity = data["identity"]
    user = request.user
    try:
        with transaction.atomic():
            rights_request = services.file_request(
                kind=data["kind"],
                person=form.person,
                requester_name=data["requester_name"],
                requester_email=data["requester_email"],
                requester_address=data["requester_address"],
                requester_capacity=data["requester_capacity"],
                channel=data["channel"],
                received_at=form.received_at(),
                details=form.details(),
                actor=user,
                identity_verified=identity in registering.Identity.METHODS,
                identity_method=registering.Identity.METHODS.get(identity, ""),
                identity_note=data["identity_note"]
                if identity in registering.Identity.METHODS
                else "",
            )
            merged = _was_merged(rights_request)
            if identity == registering.Identity.ASK and not merged:
                rights_request = services.ask_identity_document(
                    request=rights_request, reason=data["identity_note"], actor=user
                )
    except services.RightsError as error:
        form.add_error(None, str(error))
        form.scrub()
        return _register_page(request, form, status=400)
    if merged:
        messages.warning(
            request,
            f"Une demande de même nature était déjà en cours pour cette personne : la demande "
            f"{rights_request.reference}, reçue le "
            f"{timezone.localtime(rights_request.received_at):%d/%m/%Y}. La nouvelle demande y "
            "est jointe (précisions ajoutées, étape « demande identique reçue à nouveau » dans "
            f"l'historique) ; la réponse reste due au plus tard le "
            f"{rights_request.due_date:%d/%m/%Y}.",
        )
    else:
        messages.success(
            request,
            f"Demande {rights_request.reference} enregistrée : réponse due au plus tard le "
            f"{rights_request.due_date:%d/%m/%Y}.",
        )
    if user.has_perm(Permission.RIGHTS_VIEW):
        return redirect("backoffice:rights_request", request_id=rights_request.pk)
    return redirect("backoffice:rights_register")


# --- One request -------------------------------------------------------------------------------
def _details(rights_request: RightsRequest) -> list[tuple[str, str]]:
    """What the request is about, in words (never a NIR: requested values are masked)."""
    details = rights_request.details or {}
    lines = []
    if details.get("summary"):
        lines.append(("Résumé", details["summary"]))
    if details.get("purposes"):
        lines.append(
            ("Traitements visés", ", ".join(purpose_title(c) for c in details["purposes"]))
        )
    if details.get("grounds"):
        lines.append(("Raisons avancées", details["grounds"]))
    if details.get("reason"):
        lines.append(("Motif", details["reason"]))
    if details.get("scope") in DirectiveScope.values:
        lines.append(("Portée des directives", DirectiveScope(details["scope"]).label))
    if details.get("instructions"):
        lines.append(("Directives", details["instructions"]))
    if details.get("designated_name"):
        designee = details["designated_name"]
        if details.get("designated_email"):
            designee += f" ({details['designated_email']})"
        lines.append(("Personne désignée", designee))
    if details.get("heir_actions"):
        wanted = [HEIR_ACTIONS.get(a, a) for a in details["heir_actions"]]
        lines.append(("Demandé par l'héritier", ", ".join(wanted)))
    if details.get("comment"):
        lines.append(("Précisions", details["comment"]))
    if details.get("decision"):
        decision = "admise" if details["decision"] == "upheld" else "rejetée"
        lines.append(("Décision sur l'opposition", decision))
    return lines


def _requested(rights_request: RightsRequest) -> tuple[dict, list[tuple[str, str]]]:
    """The requested changes of a rectification (in clear, for the form) and as shown."""
    if rights_request.kind != Kind.RECTIFICATION or rights_request.person_id is None:
        return {}, []
    requested = handlers.requested_changes(rights_request)
    shown = [
        (label(name), forms.masked(name, value) if is_encrypted(name) else str(value))
        for name, value in requested.items()
    ]
    return requested, shown


# How a letter left, as the services note it ("email", "letter"), in words.
SENT = {"email": "par courriel", "letter": "par courrier, à poster", "": "personne à prévenir"}


def _note(event: RequestEvent) -> str:
    note = event.note
    if event.action in (Action.ACKNOWLEDGED, Action.REFUSED) and note in SENT:
        return SENT[note]
    for code, words in SENT.items():
        if code:
            note = note.replace(f"({code})", f"({words})")
    return note


def _actions(rights_request: RightsRequest, user) -> dict[str, bool]:
    """What the viewer may do now, from the transition table and the kind."""
    if not user.has_perm(Permission.RIGHTS_DECIDE):
        return {}
    status = rights_request.status
    in_progress = status == Status.IN_PROGRESS
    known = rights_request.person_id is not None
    unverified = rights_request.is_open and not rights_request.identity_verified
    return {
        "identity": unverified,
        "ask_document": unverified and rights_request.can_become(Status.AWAITING_IDENTITY),
        "extend": rights_request.is_open and rights_request.extended_months < MAX_EXTENSION_MONTHS,
        "process": in_progress and known,
        "rectify": in_progress and known and rights_request.kind == Kind.RECTIFICATION,
        "objection": in_progress and known and rights_request.kind == Kind.OBJECTION,
        "answer": rights_request.can_become(Status.ANSWERED) and in_progress,
        "refuse": rights_request.can_become(Status.REFUSED),
        "close": rights_request.can_become(Status.CLOSED),
        "export": known
        and rights_request.kind in (Kind.ACCESS, Kind.PORTABILITY)
        and status in (Status.ANSWERED, Status.CLOSED),
        "note": True,
        "attach": rights_request.is_open and not known,
    }


FORMS = {
    "identite": forms.IdentityCheckForm,
    "justificatif": forms.AskDocumentForm,
    "prolongation": forms.ExtendForm,
    "reponse": forms.AnswerForm,
    "refus": forms.RefuseForm,
    "note": forms.NoteForm,
    "rattacher": forms.AttachPersonForm,
    "opposition": forms.ObjectionDecisionForm,
}


def request_page(
    request: HttpRequest, rights_request: RightsRequest, *, status: int = 200, bound=None
) -> HttpResponse:
    """The page of one request; ``bound`` is the form just posted (shown with its errors)."""
    user = request.user
    today = timezone.localdate()
    rights_request.refresh_from_db()
    requested, requested_shown = _requested(rights_request)
    page_forms = {prefix: form_class(prefix=prefix) for prefix, form_class in FORMS.items()}
    page_forms["rectification"] = forms.RectificationApplyForm(
        prefix="rectification", requested=requested
    )
    if bound is not None:
        page_forms[bound.prefix] = bound
    events = list(rights_request.events.all())
    names = actor_names({e.actor for e in events})
    person = rights_request.person
    plan = None
    if (
        rights_request.kind == Kind.ERASURE
        and rights_request.status == Status.IN_PROGRESS
        and person is not None
    ):
        plan = handlers.erasure_preview(person)
    context = {
        "item": rights_request,
        "clock": clock(rights_request, today),
        "first_month_end": first_month_end(rights_request) if rights_request.is_open else None,
        "events": [
            {"event": e, "actor": names.get(e.actor, e.actor), "note": _note(e)} for e in events
        ],
        "letters": [e for e in events if e.action == Action.LETTER],
        "details": _details(rights_request),
        "requested": requested_shown,
        "member": member_of(person),
        "can_view_member": user.has_perm(Permission.MEMBER_VIEW),
        "can_decide": user.has_perm(Permission.RIGHTS_DECIDE),
        "actions": _actions(rights_request, user),
        "forms": page_forms,
        "plan": plan,
        "statuses": Status,
    }
    return render_page(request, "backoffice/rights/request.html", context, status=status)


@staff_view(Permission.RIGHTS_VIEW)
@require_safe
def request_detail(request: HttpRequest, request_id) -> HttpResponse:
    return request_page(request, find_request(request, request_id))
