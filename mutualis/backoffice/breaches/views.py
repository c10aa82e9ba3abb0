"""The breach register (GDPR art. 33-34) for the DPO: the list with each breach's 72-hour
clock, a breach's record, the CNIL notification drafted from it, the decision to inform the
people and their letters, and the register's CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.breaches.forms import (
    BreachForm,
    DecisionForm,
    NotificationForm,
    PeopleForm,
)
from mutualis.breaches import cnil, export, letters, services
from mutualis.breaches.clock import clock
from mutualis.breaches.models import AffectedPerson, Breach, LetterChannel
from mutualis.lib.french import plural
from mutualis.members.roles import Permission

MANAGE = Permission.BREACH_MANAGE


def _breach(breach_id: int) -> Breach:
    return get_object_or_404(Breach, pk=breach_id)


def _back(breach: Breach) -> HttpResponse:
    return redirect("backoffice:breach_detail", breach_id=breach.pk)


def _initial(breach: Breach) -> dict:
    return {name: getattr(breach, name) for name in services.EDITABLE}


@staff_view(MANAGE)
@require_safe
def register(request: HttpRequest) -> HttpResponse:
    rows = [(breach, clock(breach)) for breach in Breach.objects.all()]
    return render_page(request, "backoffice/breaches/register.html", {"rows": rows})


def _edit(request: HttpRequest, breach: Breach | None) -> HttpResponse:
    form = BreachForm(request.POST or None, initial=_initial(breach) if breach else None)
    if request.method == "POST" and form.is_valid():
        try:
            if breach is None:
                breach = services.record_breach(values=form.cleaned_data, actor=request.user)
                messages.success(request, f"Violation {breach.reference} inscrite au registre.")
            else:
                services.update_breach(breach=breach, values=form.cleaned_data, actor=request.user)
                messages.success(request, "Fiche mise à jour.")
        except services.BreachError as error:
            form.add_error(None, str(error))
        else:
            return _back(breach)
    return render_page(request, "backoffice/breaches/form.html", {"form": form, "breach": breach})


@staff_view(MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def record(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@staff_view(MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, breach_id: int) -> HttpResponse:
    return _edit(request, _breach(breach_id))


@staff_view(MANAGE)
@require_safe
def detail(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    people = AffectedPerson.objects.filter(breach=breach)
    context = {
        "breach": breach,
        "clock": clock(breach),
        "draft": cnil.draft(breach),
        "decision_form": DecisionForm(
            initial={"decision": breach.people_decision, "ground": breach.not_inform_ground}
        ),
        "people_form": PeopleForm(),
        "people": {
            "total": people.count(),
            "informed": people.filter(letter_at__isnull=False).count(),
            "by_post": people.filter(letter_channel=LetterChannel.POST).count(),
            "withheld": people.exclude(withheld="").count(),
        },
    }
    return render_page(request, "backoffice/breaches/detail.html", context)


@staff_view(MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def notification(request: HttpRequest, breach_id: int) -> HttpResponse:
    """The drafted notification, and the record of its sending (date, CNIL number)."""
    breach = _breach(breach_id)
    form = NotificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_notification(
                breach=breach,
                sent_at=form.cleaned_data["sent_at"],
                reference=form.cleaned_data["reference"],
                late_reason=form.cleaned_data["late_reason"],
                actor=request.user,
            )
        except services.BreachError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Envoi de la notification enregistré.")
            return _back(breach)
    context = {"breach": breach, "clock": clock(breach), "draft": cnil.draft(breach), "form": form}
    return render_page(request, "backoffice/breaches/notification.html", context)


def _download(text: str, filename: str, content_type: str = "text/plain; charset=utf-8"):
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


@staff_view(MANAGE, recent_auth=True)
@require_safe
def notification_text(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    return _download(cnil.as_text(breach), f"notification-cnil-{breach.reference}.txt")


@staff_view(MANAGE)
@require_POST
def decide(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez d'informer ou non les personnes.")
        return _back(breach)
    try:
        services.decide_information(breach=breach, actor=request.user, **form.cleaned_data)
    except services.BreachError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Décision enregistrée.")
    return _back(breach)


@staff_view(MANAGE)
@require_POST
def add_people(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    form = PeopleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["numbers"]))
        return _back(breach)
    unknown = services.add_people(
        breach=breach, member_numbers=form.cleaned_data["numbers"], actor=request.user
    )
    if unknown:
        messages.warning(request, f"Numéros inconnus, non ajoutés : {', '.join(unknown)}.")
    else:
        messages.success(request, "Personnes concernées ajoutées.")
    return _back(breach)


@staff_view(MANAGE)
@require_POST
def send_letters(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    try:
        counts = letters.send_letters(breach=breach, actor=request.user)
    except services.BreachError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Lettres : {counts['email']} par courriel, {counts['post']} à imprimer pour la "
            f"voie postale, {counts['withheld']} retenue{plural(counts['withheld'])}.",
        )
    return _back(breach)


@staff_view(MANAGE, recent_auth=True)
@require_safe
def postal_letters(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    text = letters.postal_letters(breach=breach, actor=request.user)
    return _download(text, f"lettres-{breach.reference}.txt")


@staff_view(MANAGE)
@require_POST
def close(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    try:
        services.close(breach=breach, actor=request.user)
    except services.BreachError as error:
        messages.error(request, str(error))
    return _back(breach)


@staff_view(MANAGE)
@require_POST
def reopen(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(breach_id)
    try:
        services.reopen(breach=breach, actor=request.user)
    except services.BreachError as error:
        messages.error(request, str(error))
    return _back(breach)


@staff_view(MANAGE, recent_auth=True)
@require_safe
def register_csv(request: HttpRequest) -> HttpResponse:
    """The register (art. 33(5)) as CSV (semicolons, UTF-8 with a byte-order mark), audited."""
    name = f"registre-des-violations-{timezone.localdate():%Y-%m-%d}.csv"
    text = export.register_csv(actor=request.user)
    return _download(text, name, "text/csv; charset=utf-8")
