"""Member search and the member record, as the viewer's service may see them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.backoffice import services
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.campaigns.choices import preferences_panel
from mutualis.backoffice.members.forms import RevealForm, SearchForm
from mutualis.backoffice.members.record import build_record
from mutualis.backoffice.members.search import SearchOutcome, must_stay_out_of_urls, search
from mutualis.backoffice.rights.people import member_panel
from mutualis.members.models import Member
from mutualis.members.roles import Permission, visible_categories


@sensitive_post_parameters("q")  # may be a NIR: kept out of error reports
@staff_view(Permission.MEMBER_SEARCH)
@require_http_methods(["GET", "HEAD", "POST"])
def member_search(request: HttpRequest) -> HttpResponse:
    """The form posts (so a NIR never reaches a URL); ``?q=`` links work for anything else."""
    outcome = SearchOutcome()
    if request.method == "POST":
        form = SearchForm(request.POST)
        nir_allowed = True
    elif "q" in request.GET:
        form = SearchForm(request.GET)
        nir_allowed = False
    else:
        form = SearchForm()
        nir_allowed = False
    if form.is_bound and form.is_valid():
        outcome = search(form.cleaned_data["q"], user=request.user, nir_allowed=nir_allowed)
    if form.is_bound and must_stay_out_of_urls(form.data.get("q", "")):
        # Never write a NIR or an IBAN back into the page (the errors, already computed, stay).
        form.data = form.data.copy()
        form.data["q"] = ""
    context = {
        "form": form,
        "outcome": outcome,
        "categories": {c.code for c in visible_categories(request.user.role)},
    }
    return render_page(request, "backoffice/members/member_search.html", context)


@staff_view(Permission.MEMBER_VIEW)
@require_safe
def member_detail(request: HttpRequest, member_id) -> HttpResponse:
    member = get_object_or_404(
        Member.objects.visible_to(request.user).select_related("person", "account"),
        pk=member_id,
    )
    record = build_record(member, user=request.user)
    services.record_member_view(member=member, actor=request.user, categories=record.categories)
    context = {
        "record": record,
        "reveal_form": RevealForm(),
        "rights_panel": member_panel(record, request.user),  # restriction banner (GDPR art. 18)
        "communication": preferences_panel(member, request.user),
    }
    return render_page(request, "backoffice/members/member_detail.html", context)
