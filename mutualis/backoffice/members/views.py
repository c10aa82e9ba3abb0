"""Member search, the member record as the viewer's service may see it, and the changes of who
a contract covers (staff of the gestion service)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice import services
from mutualis.backoffice.access import forbidden, render_page, staff_view
from mutualis.backoffice.campaigns.choices import preferences_panel
from mutualis.backoffice.members.forms import (
    BeneficiaryForm,
    RemovalForm,
    RevealForm,
    SearchForm,
)
from mutualis.backoffice.members.record import build_record, may_manage_contracts
from mutualis.backoffice.members.search import SearchOutcome, must_stay_out_of_urls, search
from mutualis.backoffice.rights.people import member_panel
from mutualis.contracts import services as contracts
from mutualis.contracts.application import ApplicationInvalid
from mutualis.contracts.models import Contract
from mutualis.lib.french import plural
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


# --- Who a contract covers --------------------------------------------------------------------
NOT_YOUR_CATEGORIES = (
    "Votre service n'a pas accès aux catégories de données que ce formulaire demande."
)


def _contract(request: HttpRequest, member_id, contract_id) -> tuple[Member, Contract]:
    """The member and one of their contracts outside the intermediate archive (only the DPO
    sees an archived one, and it no longer changes)."""
    member = get_object_or_404(
        Member.objects.visible_to(request.user).select_related("person"), pk=member_id
    )
    contract = get_object_or_404(
        Contract.objects.filter(member=member, archived_at__isnull=True).select_related("offer"),
        pk=contract_id,
    )
    return member, contract


def _record_url(member: Member) -> str:
    return reverse("backoffice:member_detail", args=[member.pk]) + "#contrats"


def _recomputed(count: int) -> str:
    if not count:
        return "aucune échéance à venir n'a changé de montant"
    return f"{count} échéance{plural(count)} à venir recalculée{plural(count)}"


@sensitive_post_parameters("nir")  # kept out of error reports
@staff_view(Permission.CONTRACT_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables("form", "beneficiary")
def contract_beneficiary_add(request: HttpRequest, member_id, contract_id) -> HttpResponse:
    """A new person covered by the contract: the subscription's rules, one transaction with the
    premium schedule recomputed (``contracts.services.cover_new_beneficiary``). The NIR typed
    travels in the POST body only and is never written back into the page."""
    if not may_manage_contracts(request.user):
        return forbidden(request, NOT_YOUR_CATEGORIES)
    member, contract = _contract(request, member_id, contract_id)
    ended = contracts.ended_on(contract)
    # A contract that has ended gets no form: the page says why nothing can be added.
    form = None if ended else BeneficiaryForm(request.POST if request.method == "POST" else None)
    if form is not None and request.method == "POST":
        if form.is_valid():
            beneficiary = form.application()
            try:
                change = contracts.cover_new_beneficiary(
                    contract=contract, beneficiary=beneficiary, actor=request.user
                )
            except ApplicationInvalid as exc:
                form.add_problems(exc.problems)
            else:
                messages.success(
                    request,
                    f"Contrat {contract.number} : {change.beneficiary.person.full_name} fait "
                    f"désormais partie des personnes couvertes ; {_recomputed(change.recomputed)}.",
                )
                return redirect(_record_url(member))
        form.describe_typed_nir()
    context = {
        "member": member,
        "contract": contract,
        "ended": ended,
        "form": form,
        "covered": contract.beneficiaries.select_related("person"),
    }
    return render_page(request, "backoffice/members/beneficiary_add.html", context)


@staff_view(Permission.CONTRACT_MANAGE)
@require_POST
def contract_beneficiary_remove(
    request: HttpRequest, member_id, contract_id, beneficiary_id
) -> HttpResponse:
    """Stop covering a beneficiary, once the box confirming it is ticked; the months not yet
    posted nor debited are recomputed (``contracts.services.uncover_beneficiary``)."""
    if not may_manage_contracts(request.user):
        return forbidden(request, NOT_YOUR_CATEGORIES)
    member, contract = _contract(request, member_id, contract_id)
    beneficiary = get_object_or_404(
        contract.beneficiaries.select_related("person"), pk=beneficiary_id
    )
    form = RemovalForm(request.POST)
    if form.is_valid():
        try:
            changed = contracts.uncover_beneficiary(
                contract=contract, beneficiary=beneficiary, actor=request.user
            )
        except contracts.ContractChangeRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Contrat {contract.number} : {beneficiary.person.full_name} ne fait plus "
                f"partie des personnes couvertes ; {_recomputed(changed)}.",
            )
            return redirect(_record_url(member))
    context = {"member": member, "contract": contract, "beneficiary": beneficiary, "form": form}
    return render_page(request, "backoffice/members/beneficiary_remove.html", context)
