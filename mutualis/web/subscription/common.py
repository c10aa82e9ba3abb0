"""What every page of the online subscription shares: the visitor's draft, the step context."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse

from mutualis.contracts import drafts
from mutualis.contracts.application import Problem
from mutualis.contracts.models import DRAFT_LIFETIME, SubscriptionDraft
from mutualis.members import validators
from mutualis.members.models import BeneficiaryRole, Civility
from mutualis.web.subscription import fields, steps
from mutualis.web.subscription.steps import STEPS, Step, Wizard

SESSION_KEY = "subscription_draft"
DONE_KEY = "subscription_contract"
RETURN_TO_SUMMARY = "recapitulatif"
LIFETIME_HOURS = int(DRAFT_LIFETIME.total_seconds() // 3600)

DUPLICATE_NIR = Problem(
    "member.nir",
    "Un numéro de sécurité sociale saisi est déjà enregistré auprès de la mutuelle. Si vous "
    "êtes déjà adhérent, connectez-vous à votre espace ; sinon, contactez-nous.",
)


def all_problems(wizard: Wizard) -> list[Problem]:
    """check_application's problems, plus the one account per e-mail address rule."""
    problems = wizard.problems()
    email = steps.member_data(wizard.steps).email
    if email and fields.email_in_use(email):
        problems.append(Problem("member.email", fields.EMAIL_IN_USE))
    return problems


# --- The visitor's draft ---------------------------------------------------------------------
def _draft_id(request: HttpRequest) -> uuid.UUID | None:
    raw = request.session.get(SESSION_KEY)
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def load_wizard(request: HttpRequest) -> tuple[Wizard | None, bool]:
    """The visitor's wizard, or None; True as second value when the draft had expired.

    An expired draft is deleted (and its key shredded) as soon as it is seen.
    """
    draft_id = _draft_id(request)
    draft = (
        SubscriptionDraft.objects.select_related("data_key").filter(pk=draft_id).first()
        if draft_id
        else None
    )
    if draft is None:
        request.session.pop(SESSION_KEY, None)
        return None, False
    if draft.is_expired:
        drafts.discard(draft)
        request.session.pop(SESSION_KEY, None)
        return None, True
    return Wizard(draft), False


def restart(expired: bool) -> HttpResponseRedirect:
    url = reverse("web:subscription:start")
    return redirect(url + "?expiree=1" if expired else url)


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)


def step_context(wizard: Wizard, step: Step, request: HttpRequest) -> dict[str, Any]:
    number = STEPS.index(step) + 1
    return {
        "step": step,
        "previous": STEPS[number - 2] if number > 1 else None,
        "step_number": number,
        "step_count": len(STEPS),
        "nav": [
            {
                "step": s,
                "number": i,
                "current": s is step,
                "open": wizard.can_open(s),
                "complete": wizard.is_complete(s),
            }
            for i, s in enumerate(STEPS, start=1)
        ],
        "lifetime_hours": LIFETIME_HOURS,
        "return_to_summary": request.GET.get("retour") == RETURN_TO_SUMMARY
        or request.POST.get("retour") == RETURN_TO_SUMMARY,
    }


def after_save(wizard: Wizard, step: Step, request: HttpRequest) -> HttpResponseRedirect:
    if request.POST.get("retour") == RETURN_TO_SUMMARY and wizard.can_open(steps.SUMMARY):
        return redirect(steps.SUMMARY.url)
    following = STEPS[STEPS.index(step) + 1]
    return redirect(following.url if wizard.can_open(following) else wizard.first_incomplete().url)


def beneficiary_rows(wizard: Wizard) -> list[dict[str, Any]]:
    rows = []
    for number, item in enumerate(wizard.beneficiaries, start=1):
        data = steps.beneficiary_data(item)
        person = data.person
        rows.append(
            {
                "number": number,
                "name": f"{person.first_names} {person.last_name}".strip(),
                "role": BeneficiaryRole(data.role).label
                if data.role in BeneficiaryRole.values
                else "",
                "civility": Civility(person.civility).label
                if person.civility in Civility.values
                else "",
                "birth_date": person.birth_date,
                "nir": "rattaché à votre numéro"
                if data.attached_to_member_nir
                else (validators.mask_nir(person.nir) if person.nir else "non renseigné"),
                "edit_url": reverse("web:subscription:beneficiary", args=[number]),
            }
        )
    return rows


def problem_url(wizard: Wizard, problem: Problem) -> str:
    owner = steps.step_of_problem(problem)
    if owner is steps.BENEFICIARIES:
        number = steps.beneficiary_index_of(problem)
        if number is not None and 1 <= number <= len(wizard.beneficiaries):
            return reverse("web:subscription:beneficiary", args=[number])
        return owner.url
    if owner is steps.SUMMARY:
        return ""
    return f"{owner.url}?retour={RETURN_TO_SUMMARY}"
