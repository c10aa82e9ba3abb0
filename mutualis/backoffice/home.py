"""The staff home: the service, its mission, the categories it may see, what the role allows."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from mutualis.backoffice.access import PERMISSION_LABELS, render_page, staff_view
from mutualis.backoffice.members.record import ordered
from mutualis.backoffice.members.search import may_search_by_nir
from mutualis.members.roles import ROLE_PERMISSIONS, Permission, visible_categories


@staff_view()
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    role = request.user.role
    granted = ROLE_PERMISSIONS.get(role, frozenset())
    context = {
        "categories": ordered(visible_categories(role)),
        "permissions": [PERMISSION_LABELS[p] for p in Permission if p in granted],
        "can_search": request.user.has_perm(Permission.MEMBER_SEARCH),
        "can_search_nir": may_search_by_nir(request.user),
        "can_view_staff": request.user.has_perm(Permission.STAFF_VIEW),
        "can_view_inquiries": request.user.has_perm(Permission.INQUIRY_VIEW),
        "can_register_inquiry": request.user.has_perm(Permission.INQUIRY_REGISTER),
        "can_manage_complaints": request.user.has_perm(Permission.COMPLAINT_MANAGE),
        "can_view_retention": request.user.has_perm(Permission.RETENTION_VIEW),
        "can_view_register": request.user.has_perm(Permission.REGISTER_VIEW),
        "can_view_audit": request.user.has_perm(Permission.AUDIT_VIEW),
        "can_view_rights": request.user.has_perm(Permission.RIGHTS_VIEW),
        "can_register_rights": request.user.has_perm(Permission.RIGHTS_REGISTER),
        "can_view_organisations": request.user.has_perm(Permission.ORGANISATION_VIEW),
        "can_manage_exchanges": request.user.has_perm(Permission.EXCHANGE_MANAGE),
        "can_view_disclosures": request.user.has_perm(Permission.DISCLOSURE_VIEW),
        "can_register_requisitions": request.user.has_perm(Permission.REQUISITION_REGISTER),
        "can_view_campaigns": request.user.has_perm(Permission.CAMPAIGN_VIEW),
        "can_view_statistics": request.user.has_perm(Permission.STATISTICS_VIEW),
        "can_manage_breaches": request.user.has_perm(Permission.BREACH_MANAGE),
        "can_view_billing": request.user.has_perm(Permission.BILLING_VIEW),
    }
    return render_page(request, "backoffice/home.html", context)
