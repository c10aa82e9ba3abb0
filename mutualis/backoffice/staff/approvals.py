"""The requests waiting for a second administrator (four eyes), and their decision."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from mutualis.audit.security import request_address
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.auth.invitation import invitation_url
from mutualis.members import roles
from mutualis.members.roles import Permission
from mutualis.staff import approvals
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.models import Approval


@staff_view(Permission.STAFF_MANAGE)
@require_safe
def approval_list(request: HttpRequest) -> HttpResponse:
    approvals.expire_overdue()
    pending = Approval.objects.pending().select_related("account", "requested_by")
    rows = [
        {
            "approval": approval,
            "role": roles.service_for(approval.role),
            "mine": request.user.pk in (approval.requested_by_id, approval.account_id),
        }
        for approval in pending
    ]
    recent = Approval.objects.exclude(status="pending").select_related(
        "account", "requested_by", "decided_by"
    )[:20]
    return render_page(request, "backoffice/staff/approvals.html", {"rows": rows, "recent": recent})


def _decide(request: HttpRequest, approval_id: int, decide, done: str) -> HttpResponse:
    approval = get_object_or_404(Approval, pk=approval_id)
    try:
        decide(approval)
    except StaffActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)
    return redirect("backoffice:staff_approvals")


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def approve(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(
        request,
        approval_id,
        lambda approval: approvals.approve(
            approval=approval,
            actor=request.user,
            link_for=invitation_url,
            address=request_address(request),
        ),
        "Demande approuvée et appliquée.",
    )


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def reject(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(
        request,
        approval_id,
        lambda approval: approvals.reject(approval=approval, actor=request.user),
        "Demande refusée.",
    )
