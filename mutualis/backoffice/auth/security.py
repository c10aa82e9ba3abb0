"""One's own second factor: since when, how many recovery codes are left, new codes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from mutualis.backoffice import services
from mutualis.backoffice.access import render_page, staff_view
from mutualis.staff import factors


@staff_view()
@require_safe
def my_security(request: HttpRequest) -> HttpResponse:
    context = {
        "device": services.confirmed_device(request.user),
        "codes_left": factors.codes_left(request.user),
        "code_count": factors.RECOVERY_CODE_COUNT,
    }
    return render_page(request, "backoffice/auth/my_security.html", context)


@staff_view(recent_auth=True)
@require_POST
def new_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new codes, the old ones void; shown in this answer only (never stored in clear)."""
    codes = factors.issue_recovery_codes(account=request.user)
    context = {"codes": codes, "next_url": reverse("backoffice:my_security"), "first": False}
    return render_page(request, "backoffice/auth/recovery_codes.html", context)
