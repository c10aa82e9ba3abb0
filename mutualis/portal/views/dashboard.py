"""The member's dashboard and the detail of one of their contracts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from mutualis.billing import ledger, statement
from mutualis.billing.models import Mandate
from mutualis.contracts.cover import CoverStatus, cover_status
from mutualis.contracts.models import Contract
from mutualis.members.models import Beneficiary, Member
from mutualis.portal.access import MemberRequiredMixin


def contracts_of(member: Member) -> QuerySet[Contract]:
    """The member's contracts with what the pages show, in a fixed number of queries."""
    return (
        Contract.objects.filter(member=member)
        .select_related("offer", "member__person", "policy_version")
        .prefetch_related(
            Prefetch(
                "beneficiaries",
                queryset=Beneficiary.objects.select_related("person", "person__data_key"),
            )
        )
    )


def current_mandate(member: Member) -> Mandate | None:
    return Mandate.objects.filter(member=member).current().first()


STATUS_LABELS = {
    CoverStatus.COVERED: "En cours",
    CoverStatus.NOT_COVERED: "À venir",
    CoverStatus.TERMINATED: "Terminé",
    CoverStatus.SUSPENDED: "Garanties suspendues (cotisation impayée)",
}


def contract_status(contract: Contract) -> str:
    """The contract's state for the member, from the one reader of cover status."""
    return STATUS_LABELS[cover_status(contract, on=timezone.localdate())]


class DashboardView(MemberRequiredMixin, TemplateView):
    template_name = "portal/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contracts = list(contracts_of(self.member))
        for contract in contracts:
            contract.status_label = contract_status(contract)
            contract.premium = contract.monthly_premium()
        today = timezone.localdate()
        context.update(
            contracts=contracts,
            mandate=current_mandate(self.member),
            balance=ledger.balance(self.member, on=today),
            next_debit=statement.next_debit(self.member, today=today),
        )
        return context


class ContractDetailView(MemberRequiredMixin, DetailView):
    """One contract, found among the member's own: anyone else's answers 404."""

    template_name = "portal/contract_detail.html"
    context_object_name = "contract"

    def get_object(self, queryset=None) -> Contract:
        return get_object_or_404(contracts_of(self.member), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        today = timezone.localdate()
        lines = []
        for person in contract.covered_people():
            age = person.age_on(today)
            lines.append(
                {
                    "person": person,
                    "role": self._role(contract, person),
                    "amount": None if age is None else contract.offer.monthly_rate_for_age(age),
                }
            )
        context.update(
            status_label=contract_status(contract),
            premium=contract.monthly_premium(today),
            premium_lines=lines,
        )
        return context

    @staticmethod
    def _role(contract: Contract, person) -> str:
        if person.pk == contract.member.person_id:
            return "Adhérent"
        for beneficiary in contract.beneficiaries.all():
            if beneficiary.person_id == person.pk:
                return beneficiary.get_role_display()
        return ""
