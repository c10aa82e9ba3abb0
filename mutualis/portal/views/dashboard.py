"""The member's dashboard and the detail of one of their contracts."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from mutualis.billing import ledger, statement
from mutualis.billing.models import Mandate
from mutualis.contracts.cover import CoverStatus, cover_status
from mutualis.contracts.models import Contract
from mutualis.lib.prepared import PreparedQuery
from mutualis.members.models import Beneficiary, Member
from mutualis.portal.access import MemberRequiredMixin


def contracts_of(member: Member) -> QuerySet[Contract]:
    """The member's contracts with what the pages show, in a fixed number of queries: the
    people covered and the unpaid-premium cases that may suspend the cover. Each contract's
    member is ``member`` itself (see :func:`owned_by`), not read again."""
    return (
        Contract.objects.filter(member=member)
        .select_related("offer", "policy_version")
        .prefetch_related(
            Prefetch(
                "beneficiaries",
                queryset=Beneficiary.objects.select_related("person", "person__data_key"),
            ),
            "dunning_cases",
        )
    )


def owned_by(contract: Contract, member: Member) -> Contract:
    """``contract`` (one of ``contracts_of(member)``) with ``member`` as its member."""
    contract.member = member
    return contract


# The latest mandate still in force, with its key (its IBAN is shown masked): asked by the
# dashboard and the bank pages on every view, so written once per process (mutualis.lib.prepared).
_CURRENT_MANDATE = PreparedQuery(
    lambda member_id: (
        Mandate.objects.filter(member_id=member_id)
        .current()
        .select_related("data_key")
        .order_by("-signed_at")[:1]
    )
)


def current_mandate(member: Member) -> Mandate | None:
    found = _CURRENT_MANDATE(member.pk)
    return found[0] if found else None


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
        contracts = [owned_by(c, self.member) for c in contracts_of(self.member)]
        for contract in contracts:
            contract.status_label = contract_status(contract)
            contract.premium = contract.monthly_premium()
        today = timezone.localdate()
        mandate = current_mandate(self.member)
        context.update(
            contracts=contracts,
            mandate=mandate,
            balance=ledger.balance(self.member, on=today),
            next_debit=statement.next_debit(self.member, today=today, mandate=mandate),
        )
        return context


class ContractDetailView(MemberRequiredMixin, DetailView):
    """One contract, found among the member's own: anyone else's answers 404."""

    template_name = "portal/contract_detail.html"
    context_object_name = "contract"

    def get_object(self, queryset=None) -> Contract:
        return owned_by(
            get_object_or_404(contracts_of(self.member), pk=self.kwargs["pk"]), self.member
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        today = timezone.localdate()
        table = contract.offer.rate_table(today)
        lines = []
        for person in contract.covered_people():
            age = person.age_on(today)
            lines.append(
                {
                    "person": person,
                    "role": self._role(contract, person),
                    "amount": None if age is None else table.rate_for_age(age),
                }
            )
        context.update(
            status_label=contract_status(contract),
            premium=sum(
                (line["amount"] for line in lines if line["amount"] is not None), Decimal("0")
            ),
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
