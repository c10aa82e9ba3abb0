"""The summary (NIR and IBAN masked) and the confirmation, which runs every check again."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.debug import sensitive_variables

from mutualis.contracts import drafts
from mutualis.contracts.application import ApplicationInvalid, Problem
from mutualis.contracts.models import Offer, SubscriptionDraft
from mutualis.members import validators
from mutualis.members.models import Civility
from mutualis.members.services import NirAlreadyRegistered
from mutualis.portal import links
from mutualis.privacy.policy import current_version
from mutualis.web.subscription import forms, steps
from mutualis.web.subscription.common import (
    DONE_KEY,
    DUPLICATE_NIR,
    RETURN_TO_SUMMARY,
    SESSION_KEY,
    all_problems,
    beneficiary_rows,
    problem_url,
    render_page,
    step_context,
)
from mutualis.web.subscription.premiums import estimates
from mutualis.web.subscription.steps import STEPS, Wizard


@sensitive_variables()
def _summary_context(wizard: Wizard, problems: list[Problem]) -> dict[str, Any]:
    application = wizard.application()
    member = application.member
    offer = Offer.objects.available().filter(code=application.offer_code).first()
    policy = current_version()
    acceptance = wizard.values(steps.ACCEPTANCE)
    return {
        "member": member,
        "civility": Civility(member.civility).label if member.civility in Civility.values else "",
        "masked_nir": validators.mask_nir(member.nir) if member.nir else "",
        "phone_mobile": validators.format_phone(member.phone_mobile),
        "phone_landline": validators.format_phone(member.phone_landline),
        "beneficiaries": beneficiary_rows(wizard),
        "payment": application.payment,
        "masked_iban": validators.mask_iban(application.payment.iban)
        if application.payment.iban
        else "",
        "mandate": forms.mandate_text(),
        "offer": offer,
        "start_date": application.start_date,
        "estimate": estimates(wizard, [offer]).get(offer.code) if offer else None,
        "cgu_version": acceptance.get("cgu_version", ""),
        "policy": policy,
        "error_links": [(problem_url(wizard, p), p.message) for p in problems],
        "edit": {s.key: f"{s.url}?retour={RETURN_TO_SUMMARY}" for s in STEPS},
    }


@sensitive_variables()
def page(request: HttpRequest, wizard: Wizard) -> HttpResponse:
    current = steps.SUMMARY
    problems = all_problems(wizard)
    if request.method == "POST" and not problems:
        try:
            contract = drafts.confirm(
                draft=wizard.draft,
                application=wizard.application(),
                activation_link=links.activation_link,
            )
        except SubscriptionDraft.DoesNotExist:
            # Confirmed (or abandoned) meanwhile from another tab.
            request.session.pop(SESSION_KEY, None)
            return redirect("web:subscription:done")
        except ApplicationInvalid as exc:
            problems = exc.problems
        except (NirAlreadyRegistered, IntegrityError):
            # Another subscription took the same NIR or e-mail address in the meantime.
            problems = all_problems(wizard) or [DUPLICATE_NIR]
        else:
            request.session.pop(SESSION_KEY, None)
            request.session[DONE_KEY] = str(contract.pk)
            return redirect("web:subscription:done")
    context = {
        **step_context(wizard, current, request),
        **_summary_context(wizard, problems),
        "submitted": request.method == "POST",
    }
    return render_page(request, "web/subscription/summary.html", context)
