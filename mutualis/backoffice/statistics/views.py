"""The audience dashboard of the back office (communication service, DPO)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.statistics.figures import dashboard
from mutualis.members.roles import Permission
from mutualis.privacy import catalogue


@staff_view(Permission.STATISTICS_VIEW)
@require_safe
def statistics(request: HttpRequest) -> HttpResponse:
    context = {
        "figures": dashboard(),
        "purpose": catalogue.AUDIENCE_STATISTICS,
        "can": {
            "notices": request.user.has_perm(Permission.CAMPAIGN_MANAGE),
            "statistics": True,
        },
    }
    return render_page(request, "backoffice/statistics/dashboard.html", context)
