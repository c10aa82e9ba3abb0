"""Administering one staff account: invite, change its service, deactivate or reactivate it,
send a new invitation, ask for its second factor to be reset. Every act needs the
``STAFF_MANAGE`` permission and a recent re-authentication (``staff_view``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.audit.security import request_address
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.auth.invitation import invitation_url
from mutualis.backoffice.staff.forms import FactorResetForm, InviteForm, RoleForm
from mutualis.members import roles
from mutualis.members.models import User
from mutualis.members.roles import Permission
from mutualis.staff import accounts, approvals, factors
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.models import Approval


def _account(account_id: int) -> User:
    return get_object_or_404(accounts.staff_accounts(), pk=account_id)


def _back(account: User) -> HttpResponse:
    return redirect("backoffice:staff_account", account_id=account.pk)


@staff_view(Permission.STAFF_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account, approval = accounts.invite(
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                role=form.cleaned_data["role"],
                actor=request.user,
                link_for=invitation_url,
                address=request_address(request),
            )
        except StaffActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if approval is None:
                messages.success(request, f"Invitation envoyée à {account.email}.")
            else:
                messages.success(
                    request,
                    "Compte créé. Ce service donne des droits étendus : l'invitation partira dès "
                    "qu'un second administrateur aura approuvé la demande.",
                )
            return _back(account)
    return render_page(request, "backoffice/staff/invite.html", {"form": form})


@staff_view(Permission.STAFF_MANAGE)
@require_safe
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    context = {
        "account": account,
        "service": roles.service_for(account.role),
        "record": accounts.record_of(account),
        "factor": factors.factor_status(account),
        "role_form": RoleForm(initial={"role": account.role}),
        "reset_form": FactorResetForm(),
        "approvals": Approval.objects.filter(account=account).select_related(
            "requested_by", "decided_by"
        )[:20],
        "is_self": account.pk == request.user.pk,
        "invitation_pending": account.is_active and not account.has_usable_password(),
    }
    return render_page(request, "backoffice/staff/account.html", context)


def _act(request: HttpRequest, account: User, act, done: str) -> HttpResponse:
    try:
        outcome = act()
    except StaffActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if isinstance(outcome, Approval):
            messages.success(
                request,
                "Demande enregistrée : elle sera appliquée dès qu'un second administrateur l'aura "
                "approuvée.",
            )
        else:
            messages.success(request, done)
    return _back(account)


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def change_role(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez un service de la liste.")
        return _back(account)
    return _act(
        request,
        account,
        lambda: accounts.change_role(
            account=account,
            role=form.cleaned_data["role"],
            actor=request.user,
            address=request_address(request),
        ),
        "Service modifié.",
    )


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def deactivate(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    return _act(
        request,
        account,
        lambda: accounts.deactivate(
            account=account, actor=request.user, address=request_address(request)
        ),
        "Compte désactivé : il ne peut plus se connecter.",
    )


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def reactivate(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    return _act(
        request,
        account,
        lambda: accounts.reactivate(
            account=account, actor=request.user, address=request_address(request)
        ),
        "Compte réactivé.",
    )


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def resend_invitation(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    return _act(
        request,
        account,
        lambda: accounts.send_new_invitation(
            account=account,
            actor=request.user,
            link_for=invitation_url,
            address=request_address(request),
        ),
        "Nouvelle invitation envoyée ; le lien précédent ne fonctionne plus.",
    )


@staff_view(Permission.STAFF_MANAGE)
@require_POST
def request_factor_reset(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    form = FactorResetForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return _back(account)
    return _act(
        request,
        account,
        lambda: approvals.request_factor_reset(
            account=account, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        "",
    )
