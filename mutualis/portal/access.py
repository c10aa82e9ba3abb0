"""Who may enter the member space: a logged-in member account, and only for their own data.

Every page finds "the member" from ``request.user`` through ``Member.objects.visible_to`` — never
from an id the client sends — so a member only ever reaches their own records (architecture.md §5).
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from mutualis.contracts import terms
from mutualis.members.models import Member, UserKind


def members_only_response(request: HttpRequest) -> HttpResponse:
    """What a logged-in account that is not a member's sees: a 403, never anyone's data."""
    return render(request, "portal/members_only.html", status=403)


def member_of(request: HttpRequest) -> Member | None:
    """The member whose account is logged in, or ``None``."""
    user = request.user
    if not user.is_authenticated or user.kind != UserKind.MEMBER:
        return None
    return (
        Member.objects.visible_to(user)
        .select_related("person", "person__data_key", "account")
        .filter(account=user)
        .first()
    )


class MemberRequiredMixin(AccessMixin):
    """Anonymous visitors go to the login page; staff and orphan accounts get a 403. A member who
    has not accepted the terms of use in force is asked to accept them first (architecture.md
    §13), whatever page they asked for."""

    member: Member
    # The page where the terms are accepted is the one page open before they are.
    terms_exempt = False

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        member = member_of(request)
        if member is None:
            return members_only_response(request)
        self.member = member
        if not self.terms_exempt and terms.needs_acceptance(member) is not None:
            target = reverse("portal:terms")
            if request.method in ("GET", "HEAD"):
                target += "?" + urlencode({"suivant": request.get_full_path()})
            return redirect(target)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        context["policy_notice"] = terms.pending_policy_notice(self.member)
        return context
