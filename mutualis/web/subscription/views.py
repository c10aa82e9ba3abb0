"""Online subscription (adhésion en ligne): a multi-step form kept in an encrypted draft.

The session holds only the draft's id. Nothing is written to the member tables before the
summary is confirmed (:func:`mutualis.contracts.drafts.confirm`). Every page is ``no-store`` and
NIR/IBAN are never posted back into a page nor into a URL (see ``fields``).

One module per part: this one (start, the form steps, abandon, confirmation page),
``beneficiaries`` (the list of people covered) and ``summary`` (summary and confirmation).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.contracts import drafts, terms
from mutualis.contracts.models import CguVersion, Contract, Offer
from mutualis.privacy.policy import current_version
from mutualis.web.subscription import beneficiaries, fields, forms, steps, summary
from mutualis.web.subscription.common import (
    DONE_KEY,
    LIFETIME_HOURS,
    SESSION_KEY,
    after_save,
    load_wizard,
    render_page,
    restart,
    step_context,
)
from mutualis.web.subscription.premiums import estimates
from mutualis.web.subscription.steps import STEPS, Step, Wizard


# --- Start, abandon, done ---------------------------------------------------------------------
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    wizard, expired = load_wizard(request)
    if request.method == "POST":
        if wizard is not None:
            drafts.discard(wizard.draft)
        draft = drafts.start_draft(current_step=steps.IDENTITY.slug)
        request.session.pop(DONE_KEY, None)
        request.session[SESSION_KEY] = str(draft.pk)
        return redirect(steps.IDENTITY.url)
    context = {
        "wizard": wizard,
        "resume_url": wizard.first_incomplete().url if wizard else "",
        "expired": expired or request.GET.get("expiree") == "1",
        "abandoned": request.GET.get("abandon") == "1",
        "lifetime_hours": LIFETIME_HOURS,
        "step_titles": [s.title for s in STEPS],
    }
    return render_page(request, "web/subscription/start.html", context)


@never_cache
@require_POST
def abandon(request: HttpRequest) -> HttpResponse:
    wizard, _expired = load_wizard(request)
    if wizard is not None:
        drafts.discard(wizard.draft)
    request.session.pop(SESSION_KEY, None)
    return redirect(reverse("web:subscription:start") + "?abandon=1")


@never_cache
@require_safe
def done(request: HttpRequest) -> HttpResponse:
    contract_id = request.session.get(DONE_KEY)
    contract = None
    if contract_id:
        try:
            contract = (
                Contract.objects.select_related("member__person", "offer")
                .filter(pk=uuid.UUID(str(contract_id)))
                .first()
            )
        except ValueError:
            contract = None
    if contract is None:
        return redirect("web:subscription:start")
    context = {"contract": contract, "link_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    return render_page(request, "web/subscription/done.html", context)


@require_safe
def cgu(request: HttpRequest, version: str | None = None) -> HttpResponse:
    """The terms of use in force, or an earlier version at its own URL (architecture.md §13)."""
    versions = list(CguVersion.objects.published())
    current = versions[0] if versions else None
    if version is None:
        shown = current
    else:
        try:
            effective_date = datetime.date.fromisoformat(version)
        except ValueError:
            raise Http404("Version inconnue") from None
        shown = next((v for v in versions if v.effective_date == effective_date), None)
        if shown is None:
            raise Http404("Version inconnue")
    context = {
        "version": shown,
        "versions": versions,
        "is_current": shown is not None and shown == current,
        "draft_html": terms.render_cgu_body() if shown is None else "",
    }
    return render_page(request, "web/subscription/cgu.html", context)


def _cgu_slug() -> str:
    cgu = terms.current_cgu()
    return cgu.slug if cgu else ""


# --- Steps -----------------------------------------------------------------------------------
@never_cache
@sensitive_post_parameters("nir", "iban")
@require_http_methods(["GET", "HEAD", "POST"])
def step(request: HttpRequest, slug: str) -> HttpResponse:
    current = steps.BY_SLUG.get(slug)
    if current is None:
        raise Http404("Étape inconnue")
    wizard, expired = load_wizard(request)
    if wizard is None:
        return restart(expired)
    if not wizard.can_open(current):
        return redirect(wizard.first_incomplete().url)
    if current is steps.BENEFICIARIES:
        return beneficiaries.page(request, wizard)
    if current is steps.SUMMARY:
        return summary.page(request, wizard)
    return _form_step(request, wizard, current)


def _initial(wizard: Wizard, step: Step) -> dict[str, Any]:
    values = {k: v for k, v in wizard.values(step).items() if k not in ("nir", "iban")}
    if step is steps.PAYMENT:
        member = steps.member_data(wizard.steps)
        values.setdefault("debtor_name", f"{member.first_names} {member.last_name}".strip())
        values.setdefault("signed_place", member.city)
        values["mandate"] = wizard.is_complete(step)
    elif step is steps.OFFER:
        values = {
            "offer": values.get("offer_code", ""),
            "start_date": values.get("start_date")
            or forms.first_day_of_next_month(timezone.localdate()).isoformat(),
        }
    elif step is steps.ACCEPTANCE:
        policy = current_version()
        accepted = (
            values.get("cgu_version") == _cgu_slug()
            and policy is not None
            and values.get("policy_version_id") == policy.pk
        )
        values = {"accept_cgu": accepted, "accept_policy": accepted}
    return values


def _form_for(
    step: Step, wizard: Wizard, data: Any, initial: dict[str, Any]
) -> tuple[fields.StepForm, dict[str, Any]]:
    """The step's form, and what its template shows besides."""
    kwargs: dict[str, Any] = {"wizard": wizard, "initial": initial}
    extra: dict[str, Any] = {}
    if step is steps.IDENTITY:
        form_class: type[fields.StepForm] = forms.IdentityForm
    elif step is steps.CONTACT:
        form_class = forms.ContactForm
    elif step is steps.SCHEME:
        form_class = forms.SchemeForm
    elif step is steps.PAYMENT:
        form_class = forms.PaymentForm
        extra["mandate"] = forms.mandate_text()
    elif step is steps.OFFER:
        form_class = forms.OfferForm
        offers = list(Offer.objects.available().prefetch_related("rates"))
        kwargs["offers"] = offers
    else:
        form_class = forms.AcceptanceForm
        policy = current_version()
        kwargs["policy_version_id"] = policy.pk if policy else None
        extra["policy"] = policy
        extra["cgu_version"] = _cgu_slug()
    form = form_class(data, **kwargs)
    if step is steps.OFFER:
        by_code = estimates(wizard, kwargs["offers"])
        extra["offer_cards"] = [(radio, by_code[radio.data["value"]]) for radio in form["offer"]]
    return form, extra


@sensitive_variables("form")
def _form_step(request: HttpRequest, wizard: Wizard, current: Step) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form, extra = _form_for(current, wizard, data, _initial(wizard, current))
    if data is not None:
        if form.is_valid():
            wizard.save_step(current, form.payload_values())
            return after_save(wizard, current, request)
        if isinstance(form, fields.SecretMixin):
            keep = form.secret_to_keep()
            if keep:
                wizard.keep_pending(form.pending_key, keep)
                form.describe_stored()
    context = {
        **step_context(wizard, current, request),
        **extra,
        "form": form,
        "error_links": form.error_links(),
    }
    return render_page(request, f"web/subscription/{current.key}.html", context)
