"""The people covered besides the member (ayants droit): a list kept in the draft, no script."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from mutualis.contracts.application import Problem
from mutualis.web.subscription import forms, steps
from mutualis.web.subscription.common import (
    RETURN_TO_SUMMARY,
    after_save,
    beneficiary_rows,
    load_wizard,
    problem_url,
    render_page,
    restart,
    step_context,
)
from mutualis.web.subscription.steps import Wizard


def _beneficiary_problems(wizard: Wizard) -> list[Problem]:
    return [p for p in wizard.problems() if steps.step_of_problem(p) is steps.BENEFICIARIES]


def _new_beneficiary_form(wizard: Wizard, data: Any = None) -> forms.BeneficiaryForm:
    member = steps.member_data(wizard.steps)
    return forms.BeneficiaryForm(
        data, wizard=wizard, index=None, initial={"last_name": member.last_name}
    )


@sensitive_variables("form")
def page(request: HttpRequest, wizard: Wizard) -> HttpResponse:
    current = steps.BENEFICIARIES
    form = _new_beneficiary_form(wizard)
    list_problems: list[Problem] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        returning = request.POST.get("retour") == RETURN_TO_SUMMARY
        again = f"?retour={RETURN_TO_SUMMARY}" if returning else ""
        back_to_list = current.url + again + "#liste"
        if action == "add":
            form = _new_beneficiary_form(wizard, request.POST)
            if form.is_valid():
                wizard.save_step(current, form.payload_values(), complete=False)
                return redirect(back_to_list)
            keep = form.secret_to_keep()
            if keep:
                wizard.keep_pending(form.pending_key, keep)
                form.describe_stored()
        elif action.startswith("remove-"):
            number = action.removeprefix("remove-")
            items = wizard.beneficiaries
            if number.isdecimal() and 1 <= int(number) <= len(items):
                del items[int(number) - 1]
                wizard.save_step(current, items, complete=False)
            return redirect(back_to_list)
        elif action == "continue":
            list_problems = _beneficiary_problems(wizard)
            if not list_problems:
                wizard.save_step(current, wizard.beneficiaries)
                return after_save(wizard, current, request)
    context = {
        **step_context(wizard, current, request),
        "form": form,
        "rows": beneficiary_rows(wizard),
        "error_links": form.error_links()
        + [(problem_url(wizard, p), p.message) for p in list_problems],
    }
    return render_page(request, "web/subscription/beneficiaries.html", context)


@never_cache
@sensitive_post_parameters("nir")
@require_http_methods(["GET", "HEAD", "POST"])
def beneficiary(request: HttpRequest, number: int) -> HttpResponse:
    """Change one beneficiary already in the list (``number`` is 1-based)."""
    wizard, expired = load_wizard(request)
    if wizard is None:
        return restart(expired)
    current = steps.BENEFICIARIES
    if not wizard.can_open(current):
        return redirect(wizard.first_incomplete().url)
    items = wizard.beneficiaries
    if not 1 <= number <= len(items):
        return redirect(current.url)
    index = number - 1
    initial = {k: v for k, v in items[index].items() if k != "nir"}
    if request.method == "POST":
        form = forms.BeneficiaryForm(request.POST, wizard=wizard, index=index, initial=initial)
        if form.is_valid():
            wizard.save_step(current, form.payload_values(), complete=wizard.is_complete(current))
            return redirect(current.url + "#liste")
        keep = form.secret_to_keep()
        if keep:
            wizard.keep_pending(form.pending_key, keep)
            form.describe_stored()
    else:
        form = forms.BeneficiaryForm(wizard=wizard, index=index, initial=initial)
    context = {
        **step_context(wizard, current, request),
        "form": form,
        "number": number,
        "error_links": form.error_links(),
    }
    return render_page(request, "web/subscription/beneficiary.html", context)
