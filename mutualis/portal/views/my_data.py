"""« Mes données »: everything the mutuelle holds on the member (GDPR art. 15), on one page."""

from __future__ import annotations

from django.views.generic import TemplateView

from mutualis.portal.access import MemberRequiredMixin
from mutualis.portal.inventory import inventory
from mutualis.recipients import register
from mutualis.vault.erased import ERASED_TEXT


class MyDataView(MemberRequiredMixin, TemplateView):
    template_name = "portal/my_data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            sections=inventory(self.member),
            erased_text=ERASED_TEXT,
            # Who received what and when (GDPR art. 15(1)(c)), secrets of authorities aside.
            disclosures=register.for_person(self.member.person),
        )
        return context
