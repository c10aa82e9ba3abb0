"""The staff accounts, for the administration service (and the DPO): service, state, second
factor and last login of each."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.backoffice.access import render_page, staff_view
from mutualis.members import roles
from mutualis.members.models import User
from mutualis.members.roles import Permission
from mutualis.privacy.declaration import InternalService
from mutualis.staff import accounts
from mutualis.staff.models import Approval, StaffAccount


@dataclass(frozen=True)
class StaffRow:
    account: User
    service: InternalService | None
    record: StaffAccount | None
    pending: int

    @property
    def state(self) -> str:
        if self.record and self.record.anonymised_at:
            return "anonymisé"
        if not self.account.is_active:
            return "désactivé"
        if not self.account.has_usable_password():
            return (
                "invité, mot de passe à choisir"
                if self.account.role
                else "en attente d'approbation"
            )
        return "actif"

    @property
    def factor(self) -> str:
        if self.account.has_device:
            left = self.account.codes_left
            return f"activée ({left} code{'s' if left > 1 else ''} de secours)"
        return "à activer à la prochaine connexion"


def staff_rows() -> list[StaffRow]:
    listed = (
        accounts.staff_accounts()
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            codes_left=Count("recovery_codes", filter=Q(recovery_codes__used_at__isnull=True)),
        )
        .select_related("staff_record")
        .order_by("role", "email")
    )
    pending = dict(
        Approval.objects.pending()
        .values("account")
        .annotate(n=Count("pk"))
        .values_list("account", "n")
    )
    return [
        StaffRow(
            account,
            roles.service_for(account.role),
            getattr(account, "staff_record", None),
            pending.get(account.pk, 0),
        )
        for account in listed
    ]


@staff_view(Permission.STAFF_VIEW)
@require_safe
def staff_list(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": staff_rows(),
        "can_manage": request.user.has_perm(Permission.STAFF_MANAGE),
        "pending": Approval.objects.pending().count(),
    }
    return render_page(request, "backoffice/staff/staff_list.html", context)
