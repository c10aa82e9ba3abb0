"""Change of bank account: the running SEPA mandate is amended (same reference, the new account
announced to the bank with the next debit), or a mandate is signed when none runs (SDD Core
rulebook).

The IBAN typed is never shown back in clear once accepted: the confirmation page shows the
masked IBAN and the mandate reference (RUM) only.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from mutualis.billing import services
from mutualis.portal.access import MemberRequiredMixin
from mutualis.portal.forms import BankAccountForm, creditor
from mutualis.portal.views.dashboard import current_mandate
from mutualis.vault.erased import is_erased


@method_decorator(sensitive_post_parameters("iban", "bic", "debtor_name"), name="dispatch")
class BankAccountView(MemberRequiredMixin, FormView):
    form_class = BankAccountForm
    template_name = "portal/bank_form.html"
    success_url = reverse_lazy("portal:bank_done")

    def get_initial(self) -> dict:
        person = self.member.person
        return {"debtor_name": person.full_name, "signed_place": person.city}

    def get_form_kwargs(self) -> dict:
        mandate = current_mandate(self.member)
        iban = mandate.iban if mandate is not None else None
        return {
            **super().get_form_kwargs(),
            "current_iban": None if iban is None or is_erased(iban) else iban,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(mandate=current_mandate(self.member), creditor=creditor())
        return context

    def form_valid(self, form: BankAccountForm) -> HttpResponse:
        data = form.cleaned_data
        # The form refuses the current account already (current_iban), so no ValueError here.
        services.change_bank_account(
            member=self.member,
            iban=data["iban"],
            bic=data["bic"],
            debtor_name=data["debtor_name"],
            signed_place=data["signed_place"],
            actor=self.request.user,
        )
        return super().form_valid(form)


class BankAccountDoneView(MemberRequiredMixin, TemplateView):
    template_name = "portal/bank_done.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(mandate=current_mandate(self.member), creditor=creditor())
        return context
