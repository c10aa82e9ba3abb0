"""Staff accounts: the list (administration and DPO), and their administration (admin service):
invitations, services, deactivation, second-factor resets, approvals (four eyes)."""

from django.urls import path

from mutualis.backoffice.staff import accounts, approvals, views

urlpatterns = [
    path("personnels/", views.staff_list, name="staff_list"),
    path("personnels/inviter/", accounts.invite, name="staff_invite"),
    path("personnels/<int:account_id>/", accounts.account_detail, name="staff_account"),
    path("personnels/<int:account_id>/service/", accounts.change_role, name="staff_change_role"),
    path("personnels/<int:account_id>/desactiver/", accounts.deactivate, name="staff_deactivate"),
    path("personnels/<int:account_id>/reactiver/", accounts.reactivate, name="staff_reactivate"),
    path(
        "personnels/<int:account_id>/invitation/",
        accounts.resend_invitation,
        name="staff_resend_invitation",
    ),
    path(
        "personnels/<int:account_id>/double-authentification/",
        accounts.request_factor_reset,
        name="staff_factor_reset",
    ),
    path("personnels/approbations/", approvals.approval_list, name="staff_approvals"),
    path(
        "personnels/approbations/<int:approval_id>/approuver/",
        approvals.approve,
        name="staff_approve",
    ),
    path(
        "personnels/approbations/<int:approval_id>/refuser/",
        approvals.reject,
        name="staff_reject",
    ),
]
