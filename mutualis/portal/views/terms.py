"""The terms of use in the member space: accepting the version in force (asked before anything
else when a new one is published), and acknowledging a new privacy policy (architecture.md §13)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView

from mutualis.contracts import terms
from mutualis.contracts.models import AcceptanceChannel
from mutualis.portal.access import MemberRequiredMixin


class AcceptTermsForm(forms.Form):
    accept = forms.BooleanField(
        label="J'ai lu et j'accepte les conditions générales d'utilisation de l'espace adhérent",
        error_messages={"required": "Cochez la case pour accepter les conditions."},
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("suivant") or request.GET.get("suivant") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("portal:dashboard")


class TermsView(MemberRequiredMixin, FormView):
    """The terms in force, and the acceptance the member gives (version, time, channel kept)."""

    terms_exempt = True
    template_name = "portal/terms.html"
    form_class = AcceptTermsForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["version"] = terms.current_cgu()
        context["pending"] = terms.needs_acceptance(self.member)
        context["accepted"] = terms.latest_acceptance(self.member)
        context["suivant"] = _next(self.request)
        return context

    def form_valid(self, form) -> HttpResponse:
        version = terms.needs_acceptance(self.member)
        if version is not None:
            terms.accept_cgu(
                member=self.member,
                version=version,
                channel=AcceptanceChannel.MEMBER_SPACE,
                actor=self.request.user,
            )
            messages.success(self.request, "Merci : les conditions générales sont acceptées.")
        return redirect(_next(self.request))


class PolicySeenView(MemberRequiredMixin, View):
    """The member has read what changed in the policy: the banner goes (POST only)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        version = terms.pending_policy_notice(self.member)
        if version is not None:
            terms.mark_policy_seen(member=self.member, version=version, actor=request.user)
        return redirect(_next(request))
