"""The staff accounts, for the administration service (and the DPO)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.backoffice.access import render_page, staff_view
from mutualis.members import roles
from mutualis.members.models import User, UserKind
from mutualis.members.roles import Permission


@staff_view(Permission.STAFF_VIEW)
@require_safe
def staff_list(request: HttpRequest) -> HttpResponse:
    accounts = (
        User.objects.filter(kind=UserKind.STAFF)
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .order_by("role", "email")
    )
    rows = [(account, roles.service_for(account.role)) for account in accounts]
    return render_page(request, "backoffice/staff/staff_list.html", {"rows": rows})
