"""Who may enter the member space: a logged-in member account, and only for their own data.

Every page finds "the member" from ``request.user`` — the record of the session's account, what
``Member.objects.visible_to`` gives a member, never from an id the client sends — so a member
only ever reaches their own records (architecture.md §5).
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from mutualis.contracts import terms
from mutualis.lib.prepared import PreparedQuery
from mutualis.members.models import Member, UserKind
from mutualis.rights.export import queries


def members_only_response(request: HttpRequest) -> HttpResponse:
    """What a logged-in account that is not a member's sees: a 403, never anyone's data."""
    return render(request, "portal/members_only.html", status=403)


# What ``Member.objects.visible_to`` gives a member's account (their own record, found by the
# account of the session, never by an id the client sends), with the person and their key: the
# first query of every page of the member space, written once per process (mutualis.lib.prepared:
# writing it cost more than running it). At most one row: the account is one-to-one.
_MEMBER_OF_ACCOUNT = PreparedQuery(
    lambda account_id: Member.objects.select_related("person", "person__data_key").filter(
        account_id=account_id
    )[:1]
)


def member_of(request: HttpRequest) -> Member | None:
    """The member whose account is logged in, or ``None``."""
    user = request.user
    if not user.is_authenticated or user.kind != UserKind.MEMBER:
        return None
    found = _MEMBER_OF_ACCOUNT(user.pk)
    member = found[0] if found else None
    if member is not None:
        # Both sides of the one-to-one, cached: ``member.account`` is the logged-in user (not
        # read again) and ``user.member``, which ``visible_to`` querysets filter on, is this member.
        user.member = member
    return member


def pending_of(member: Member) -> terms.Pending | None:
    """:func:`mutualis.contracts.terms.pending_of`, asked at every page: its query is written by
    the ORM once per process (:mod:`mutualis.rights.export.queries`) and then only executed,
    since writing it costs several times what running it does (it holds no date: the same SQL
    answers on any day). ``None`` when the member's row is gone since it was read."""
    query, params = queries.prepare(
        pending_of, "member", [member.pk], lambda keys: terms.pending_query(keys[0])
    )
    (rows,) = queries.fetch([(query, params)])
    if not rows:
        return None
    (values,) = query.orm_rows(rows[:1])
    return terms.pending_from(dict(zip(terms.PENDING_COLUMNS, values, strict=True)))


class MemberRequiredMixin(AccessMixin):
    """Anonymous visitors go to the login page; staff and orphan accounts get a 403. A member who
    has not accepted the terms of use in force is asked to accept them first (architecture.md
    §13), whatever page they asked for."""

    member: Member
    pending: terms.Pending
    # The page where the terms are accepted is the one page open before they are.
    terms_exempt = False

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        member = member_of(request)
        pending = None if member is None else pending_of(member)
        if member is None or pending is None:
            return members_only_response(request)
        self.member, self.pending = member, pending
        if not self.terms_exempt and self.pending.terms is not None:
            target = reverse("portal:terms")
            if request.method in ("GET", "HEAD"):
                target += "?" + urlencode({"suivant": request.get_full_path()})
            return redirect(target)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        context["policy_notice"] = self.pending.policy
        return context
