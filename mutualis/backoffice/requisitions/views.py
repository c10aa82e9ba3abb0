"""The authorities' requisitions: register, the DPO's decision, the export and its handing
over, the end of a secrecy; and the art. 19 letters to authorities waiting to be posted.

The export's key is shown once, in the answer to the POST that made it; the archive is
downloaded apart (each download audited) and erased from the database once handed over.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.requisitions.forms import DecisionForm, RequisitionForm
from mutualis.members.roles import Permission
from mutualis.privacy import catalogue
from mutualis.recipients import notices, requisitions
from mutualis.recipients.models import Notice, NoticeChannel
from mutualis.recipients.models_requisitions import Requisition, ToldChannel
from mutualis.recipients.requisition_scope import describe
from mutualis.recipients.services import RecipientsError
from mutualis.rights.export import build_access_export

CATEGORY_LABELS = {c.code: c.label for c in catalogue.ALL_CATEGORIES}


@staff_view(Permission.REQUISITION_REGISTER)
@require_safe
def requisition_list(request: HttpRequest) -> HttpResponse:
    context = {
        "requisitions": Requisition.objects.select_related("organisation")[:100],
        "letters": Notice.objects.pending()
        .filter(channel=NoticeChannel.LETTER)
        .select_related("organisation"),
        "can_decide": request.user.has_perm(Permission.REQUISITION_DECIDE),
    }
    return render_page(request, "backoffice/requisitions/list.html", context)


@staff_view(Permission.REQUISITION_REGISTER)
@require_http_methods(["GET", "POST"])
def requisition_create(request: HttpRequest) -> HttpResponse:
    form = RequisitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            requisition = requisitions.register(
                organisation=data["organisation"],
                legal_basis=data["legal_basis"],
                reference=data["reference"],
                received_on=data["received_on"],
                deadline=data["deadline"],
                people=form.people(),
                categories=data["categories"],
                forbids_notice=data["forbids_notice"],
                secrecy_ground=data["secrecy_ground"],
                actor=request.user,
            )
        except RecipientsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "La réquisition est enregistrée : elle attend la décision.")
            return redirect("backoffice:requisition_detail", requisition.pk)
    return render_page(request, "backoffice/requisitions/form.html", {"form": form})


def _detail(request: HttpRequest, requisition: Requisition, **extra) -> HttpResponse:
    subjects = list(requisition.subjects.all())
    names = describe(subjects)
    context = {
        "requisition": requisition,
        "subjects": [(s, names[s.subject_id]) for s in subjects],
        "categories": [CATEGORY_LABELS.get(c, c) for c in requisition.categories],
        "can_decide": request.user.has_perm(Permission.REQUISITION_DECIDE),
        "decision_form": extra.pop("decision_form", None) or DecisionForm(),
        "to_post": [s for s in subjects if s.told_channel == ToldChannel.LETTER],
        "letter": requisitions.person_letter(requisition) if requisition.exported_at else "",
        **extra,
    }
    return render_page(request, "backoffice/requisitions/detail.html", context)


@staff_view(Permission.REQUISITION_REGISTER)
@require_safe
def requisition_detail(request: HttpRequest, requisition_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Requisition, pk=requisition_id))


@staff_view(Permission.REQUISITION_DECIDE)
@require_POST
def requisition_decide(request: HttpRequest, requisition_id: int) -> HttpResponse:
    requisition = get_object_or_404(Requisition, pk=requisition_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, requisition, decision_form=form)
    try:
        requisitions.decide(
            requisition=requisition,
            approve=request.POST.get("decision") == "approve",
            reasons=form.cleaned_data["reasons"],
            actor=request.user,
        )
    except RecipientsError as error:
        form.add_error(None, str(error))
        return _detail(request, requisition, decision_form=form)
    messages.success(request, "La décision est enregistrée.")
    return redirect("backoffice:requisition_detail", requisition.pk)


@staff_view(Permission.REQUISITION_DECIDE, recent_auth=True)
@require_POST
def requisition_export(request: HttpRequest, requisition_id: int) -> HttpResponse:
    requisition = get_object_or_404(Requisition, pk=requisition_id)
    try:
        sealed = requisitions.export(
            requisition=requisition, read_copy=build_access_export, actor=request.user
        )
    except RecipientsError as error:
        messages.error(request, str(error))
        return redirect("backoffice:requisition_detail", requisition.pk)
    requisition.refresh_from_db()
    return _detail(request, requisition, export_key=sealed.key)


@staff_view(Permission.REQUISITION_DECIDE, recent_auth=True)
@require_safe
def requisition_download(request: HttpRequest, requisition_id: int) -> HttpResponse:
    requisition = get_object_or_404(Requisition, pk=requisition_id)
    try:
        archive = requisitions.download(requisition=requisition, actor=request.user)
    except RecipientsError as error:
        messages.error(request, str(error))
        return redirect("backoffice:requisition_detail", requisition.pk)
    response = HttpResponse(archive, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="requisition-{requisition.pk}.bak"'
    return response


@staff_view(Permission.REQUISITION_DECIDE)
@require_POST
def requisition_deliver(request: HttpRequest, requisition_id: int) -> HttpResponse:
    requisition = get_object_or_404(Requisition, pk=requisition_id)
    try:
        requisitions.record_delivery(requisition=requisition, actor=request.user)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "La remise est enregistrée ; l'archive est effacée.")
    return redirect("backoffice:requisition_detail", requisition.pk)


@staff_view(Permission.REQUISITION_DECIDE)
@require_POST
def requisition_lift_secrecy(request: HttpRequest, requisition_id: int) -> HttpResponse:
    requisition = get_object_or_404(Requisition, pk=requisition_id)
    requisitions.lift_secrecy(requisition=requisition, actor=request.user)
    messages.success(request, "Le secret est levé : les personnes sont informées.")
    return redirect("backoffice:requisition_detail", requisition.pk)


@staff_view(Permission.REQUISITION_DECIDE)
@require_POST
def letter_sent(request: HttpRequest, notice_id) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=notice_id, channel=NoticeChannel.LETTER)
    notices.record_letter_sent(notice=notice, actor=request.user)
    messages.success(request, f"Le courrier à {notice.organisation.name} est noté comme envoyé.")
    return redirect("backoffice:requisition_list")
