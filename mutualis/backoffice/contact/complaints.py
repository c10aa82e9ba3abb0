"""The réclamations queue (ACPR recommendation 2022-R-01).

Open complaints come nearest deadline first (the acknowledgement while it is owed, then the
answer: ``Complaint.objects.by_deadline()``); a complaint past its deadline is marked by a class
and by the words "en retard", never by colour alone. Answered complaints wait below to be closed
with the register's fields (outcome, mediation, root cause). Complaints in intermediate archive
are listed for the DPO alone.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.contact.forms import CloseComplaintForm
from mutualis.backoffice.contact.queries import complaints_for, is_dpo
from mutualis.contact import services
from mutualis.contact.models import Complaint
from mutualis.members.roles import Permission

PAGE_SIZE = 50
ARCHIVE_SHOWN = 50


def _row(complaint: Complaint) -> dict:
    return {
        "complaint": complaint,
        "inquiry": complaint.inquiry,
        "deadline": complaint.next_deadline,
        "deadline_kind": "accusé de réception" if complaint.acknowledged_at is None else "réponse",
        "late": complaint.is_overdue,
    }


def _late(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """The same rule as ``Complaint.is_overdue``, in SQL: the owed step is past its date."""
    today = timezone.localdate()
    return complaints.filter(
        Q(acknowledged_at__isnull=True, acknowledgement_due__lt=today)
        | Q(acknowledged_at__isnull=False, answer_due__lt=today)
    )


@staff_view(Permission.COMPLAINT_MANAGE)
@require_safe
def complaint_queue(request: HttpRequest) -> HttpResponse:
    complaints = complaints_for(request.user)
    pending = complaints.open().by_deadline()
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    to_close = complaints.filter(
        answered_at__isnull=False, closed_at__isnull=True, archived_at__isnull=True
    ).order_by("answered_at")
    archived = None
    if is_dpo(request.user):
        archived = complaints.filter(archived_at__isnull=False).order_by("-archived_at")[
            :ARCHIVE_SHOWN
        ]
    context = {
        "page": page,
        "rows": [_row(c) for c in page],
        "late_count": _late(pending).count(),
        "to_close": [_row(c) for c in to_close],
        "archived": archived,
        "close_form": CloseComplaintForm(),
    }
    return render_page(request, "backoffice/contact/complaint_queue.html", context)


def _complaint(request: HttpRequest, inquiry_id) -> Complaint:
    return get_object_or_404(complaints_for(request.user), inquiry_id=inquiry_id)


def _back(request: HttpRequest, complaint: Complaint) -> HttpResponse:
    if request.POST.get("depuis") == "demande":
        return redirect("backoffice:inquiry_detail", inquiry_id=complaint.inquiry_id)
    return redirect("backoffice:complaint_queue")


@staff_view(Permission.COMPLAINT_MANAGE)
@require_POST
def complaint_acknowledge(request: HttpRequest, inquiry_id) -> HttpResponse:
    complaint = _complaint(request, inquiry_id)
    if complaint.acknowledged_at is not None:
        messages.info(
            request,
            f"La réclamation {complaint.inquiry.reference} a déjà reçu son accusé de réception.",
        )
        return _back(request, complaint)
    services.acknowledge_complaint(complaint=complaint, actor=request.user)
    messages.success(
        request, f"Accusé de réception de la réclamation {complaint.inquiry.reference} envoyé."
    )
    return _back(request, complaint)


@staff_view(Permission.COMPLAINT_MANAGE)
@require_POST
def complaint_close(request: HttpRequest, inquiry_id) -> HttpResponse:
    complaint = _complaint(request, inquiry_id)
    reference = complaint.inquiry.reference
    if complaint.closed_at is not None:
        messages.info(request, f"La réclamation {reference} est déjà close.")
        return _back(request, complaint)
    if complaint.answered_at is None:
        messages.error(
            request,
            f"La réclamation {reference} n'a pas encore reçu de réponse : répondez-y avant de "
            "la clore (la réponse indique les voies de recours et le médiateur).",
        )
        return _back(request, complaint)
    form = CloseComplaintForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        messages.error(request, f"La réclamation {reference} n'est pas close : {errors}")
        return _back(request, complaint)
    services.close_complaint(
        complaint=complaint,
        outcome=form.cleaned_data["outcome"],
        mediation=form.cleaned_data["mediation"],
        root_cause=form.cleaned_data["root_cause"],
        actor=request.user,
    )
    messages.success(request, f"La réclamation {reference} est close et inscrite au registre.")
    return _back(request, complaint)
