"""Who may enter the member space: a logged-in member account, and only for their own data.

Every page finds "the member" from ``request.user`` through ``Member.objects.visible_to`` — never
from an id the client sends — so a member only ever reaches their own records (architecture.md §5).
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
    """Anonymous visitors go to the login page; staff and orphan accounts get a 403."""

    member: Member

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        member = member_of(request)
        if member is None:
            return members_only_response(request)
        self.member = member
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        return context
