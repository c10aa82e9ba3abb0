"""Inquiries in the back office: the service's queue, a thread, its answer and its handling.

Who may open which thread is decided by :mod:`mutualis.backoffice.contact.queries`; a thread
outside the viewer's reach is a 404, for pages, actions and downloads alike. Opening a thread and
downloading an attachment are audited sensitive reads. The writes go through the contact
services, which record their own audit events.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.contact.forms import (
    AnswerForm,
    AssignForm,
    CloseComplaintForm,
    QualifyForm,
    RegisterForm,
    StatusForm,
)
from mutualis.backoffice.contact.queries import (
    category_codes,
    inquiries_for,
    is_dpo,
    is_late,
    sees_complaint_details,
)
from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.contact import services
from mutualis.contact.models import (
    SERVICE_CHOICES,
    TRANSITIONS,
    Attachment,
    Inquiry,
    Status,
)
from mutualis.contact.services import ALLOWED_UPLOAD_TYPES, InvalidTransition
from mutualis.members.models import Member
from mutualis.members.roles import Permission

PAGE_SIZE = 50
SERVICE_LABELS = dict(SERVICE_CHOICES)
# The queue's filters: which statuses each shows.
QUEUE_FILTERS = {
    "a-traiter": ("À traiter ou en attente", [Status.OPEN, Status.WAITING]),
    "repondues": ("Répondues", [Status.ANSWERED]),
    "closes": ("Closes", [Status.CLOSED]),
    "toutes": ("Toutes", [s.value for s in Status]),
}


def _thread(request: HttpRequest, inquiry_id) -> Inquiry:
    return get_object_or_404(
        inquiries_for(request.user).select_related("person", "complaint"), pk=inquiry_id
    )


@staff_view(Permission.INQUIRY_VIEW)
@require_safe
def inquiry_queue(request: HttpRequest) -> HttpResponse:
    """The service's threads, the nearest answer date first; late ones stand out."""
    user = request.user
    shown = request.GET.get("etat", "a-traiter")
    if shown not in QUEUE_FILTERS:
        shown = "a-traiter"
    threads = inquiries_for(user).filter(status__in=QUEUE_FILTERS[shown][1])
    service = request.GET.get("service", "")
    if is_dpo(user) and service in SERVICE_LABELS:
        threads = threads.filter(service=service)
    else:
        service = ""
    threads = threads.select_related("person", "complaint").order_by("answer_due", "received_at")
    page = Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [{"inquiry": inquiry, "late": is_late(inquiry)} for inquiry in page],
        "filters": [(key, label) for key, (label, _) in QUEUE_FILTERS.items()],
        "shown": shown,
        "service": service,
        "services": SERVICE_CHOICES if is_dpo(user) else None,
        "categories": category_codes(user),
        "can_register": user.has_perm(Permission.INQUIRY_REGISTER),
        "sees_all": is_dpo(user),
    }
    return render_page(request, "backoffice/contact/inquiry_queue.html", context)


def _detail(request: HttpRequest, inquiry: Inquiry, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    complaint = getattr(inquiry, "complaint", None)
    person = inquiry.person
    member = Member.objects.filter(person=person).first() if person is not None else None
    context = {
        "inquiry": inquiry,
        "late": is_late(inquiry),
        "complaint": complaint,
        "complaint_late": complaint is not None and complaint.is_overdue,
        "thread": inquiry.messages.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.defer("content")))
        .order_by("at"),
        "member": member if user.has_perm(Permission.MEMBER_VIEW) else None,
        "categories": category_codes(user),
        "sees_complaint": sees_complaint_details(user),
        "can_answer": user.has_perm(Permission.INQUIRY_ANSWER),
        "can_manage_complaints": user.has_perm(Permission.COMPLAINT_MANAGE),
        "allowed_statuses": [
            (s.value, s.label) for s in Status if s.value in TRANSITIONS[inquiry.status]
        ],
        "other_services": [(c, label) for c, label in SERVICE_CHOICES if c != inquiry.service],
        "answer_form": forms.get("answer_form") or AnswerForm(),
        "status_form": forms.get("status_form") or StatusForm(),
        "assign_form": forms.get("assign_form") or AssignForm(),
        "qualify_form": forms.get("qualify_form") or QualifyForm(),
        "close_form": forms.get("close_form") or CloseComplaintForm(),
    }
    return render_page(request, "backoffice/contact/inquiry_detail.html", context, status=status)


@staff_view(Permission.INQUIRY_VIEW)
@require_safe
def inquiry_detail(request: HttpRequest, inquiry_id) -> HttpResponse:
    inquiry = _thread(request, inquiry_id)
    services.record_inquiry_read(inquiry=inquiry, actor=request.user)
    return _detail(request, inquiry)


@staff_view(Permission.INQUIRY_ANSWER)
@require_POST
def inquiry_answer(request: HttpRequest, inquiry_id) -> HttpResponse:
    inquiry = _thread(request, inquiry_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, inquiry, status=400, answer_form=form)
    try:
        services.answer(
            inquiry=inquiry,
            body=form.cleaned_data["body"],
            actor=request.user,
            close=form.cleaned_data["close"],
        )
    except ValueError as error:
        form.add_error("body", str(error))
        return _detail(request, inquiry, status=400, answer_form=form)
    if inquiry.reply_address:
        messages.success(request, "Réponse envoyée par courriel.")
    else:
        messages.warning(
            request,
            "Réponse enregistrée, mais aucune adresse électronique n'est connue : elle n'est "
            "visible que dans l'espace adhérent, s'il y en a un. Envoyez-la aussi par courrier.",
        )
    return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)


@staff_view(Permission.INQUIRY_ANSWER)
@require_POST
def inquiry_status(request: HttpRequest, inquiry_id) -> HttpResponse:
    inquiry = _thread(request, inquiry_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _detail(request, inquiry, status=400, status_form=form)
    try:
        inquiry = services.change_status(
            inquiry=inquiry, status=form.cleaned_data["status"], actor=request.user
        )
    except InvalidTransition as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"La demande est maintenant « {inquiry.get_status_display()} ».")
    return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)


@staff_view(Permission.INQUIRY_ANSWER)
@require_POST
def inquiry_assign(request: HttpRequest, inquiry_id) -> HttpResponse:
    inquiry = _thread(request, inquiry_id)
    form = AssignForm(request.POST)
    if form.is_valid() and form.cleaned_data["service"] == inquiry.service:
        form.add_error("service", "La demande est déjà confiée à ce service.")
    if not form.is_valid():
        return _detail(request, inquiry, status=400, assign_form=form)
    services.assign(inquiry=inquiry, service=form.cleaned_data["service"], actor=request.user)
    label = SERVICE_LABELS[form.cleaned_data["service"]]
    messages.success(request, f"La demande {inquiry.reference} est transmise au service {label}.")
    if inquiries_for(request.user).filter(pk=inquiry.pk).exists():
        return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)
    return redirect("backoffice:inquiry_queue")


@staff_view(Permission.COMPLAINT_MANAGE)
@require_POST
def inquiry_qualify(request: HttpRequest, inquiry_id) -> HttpResponse:
    inquiry = _thread(request, inquiry_id)
    if getattr(inquiry, "complaint", None) is not None:
        messages.info(request, "Cette demande est déjà une réclamation.")
        return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)
    form = QualifyForm(request.POST)
    if not form.is_valid():
        return _detail(request, inquiry, status=400, qualify_form=form)
    complaint = services.qualify_as_complaint(
        inquiry=inquiry,
        complainant_type=form.cleaned_data["complainant_type"],
        reason=form.cleaned_data["reason"],
        product=form.cleaned_data["product"],
        actor=request.user,
    )
    messages.success(
        request,
        "Demande qualifiée en réclamation : accusé de réception au plus tard le "
        f"{complaint.acknowledgement_due:%d/%m/%Y}, réponse au plus tard le "
        f"{complaint.answer_due:%d/%m/%Y}.",
    )
    return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)


@staff_view(Permission.INQUIRY_VIEW)
@require_safe
def attachment_download(request: HttpRequest, inquiry_id, attachment_id) -> HttpResponse:
    """A stored file, as a download only, under the type sniffed from its bytes when stored.

    A file whose stored type is not one the mutuelle accepts (an e-mail attachment kept as
    declared by the sender) goes out as ``application/octet-stream``: never rendered inline.
    """
    inquiry = _thread(request, inquiry_id)
    attachment = get_object_or_404(
        Attachment.objects.select_related("message__inquiry"),
        pk=attachment_id,
        message__inquiry=inquiry,
    )
    services.record_attachment_read(attachment=attachment, actor=request.user)
    content_type = attachment.content_type
    if content_type not in ALLOWED_UPLOAD_TYPES:
        content_type = "application/octet-stream"
    response = HttpResponse(bytes(attachment.content), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_view(Permission.INQUIRY_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def inquiry_register(request: HttpRequest) -> HttpResponse:
    """Register a phone call, a letter (with its scan) or a visit."""
    user = request.user
    may_qualify = user.has_perm(Permission.COMPLAINT_MANAGE)
    if request.method != "POST":
        form = RegisterForm(user=user, may_qualify=may_qualify)
        return _register_page(request, form)
    form = RegisterForm(request.POST, request.FILES, user=user, may_qualify=may_qualify)
    if not form.is_valid():
        if must_stay_out_of_urls(form.data.get("member", "")):
            form.data = form.data.copy()
            form.data["member"] = ""  # never written back into the page
        return _register_page(request, form, status=400)
    data = form.cleaned_data
    member = form.found_member
    with transaction.atomic():
        inquiry = services.open_inquiry(
            channel=data["channel"],
            subject=data["subject"],
            body=data["body"],
            person=member.person if member else None,
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            contact_phone=data["contact_phone"],
            contact_address=data["contact_address"],
            files=[data["attachment"]] if data["attachment"] else [],
            received_at=form.received_at(),
            service=data["service"],
            actor=user,
        )
        if may_qualify and data.get("is_complaint"):
            services.qualify_as_complaint(
                inquiry=inquiry,
                complainant_type=data["complainant_type"],
                reason=data["reason"],
                product=data["product"],
                actor=user,
            )
    messages.success(request, f"Demande {inquiry.reference} enregistrée.")
    if inquiries_for(user).filter(pk=inquiry.pk).exists():
        return redirect("backoffice:inquiry_detail", inquiry_id=inquiry.pk)
    return redirect("backoffice:inquiry_queue")


def _register_page(request: HttpRequest, form: RegisterForm, *, status: int = 200) -> HttpResponse:
    return render_page(
        request, "backoffice/contact/inquiry_register.html", {"form": form}, status=status
    )
