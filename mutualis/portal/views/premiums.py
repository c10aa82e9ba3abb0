"""« Mes cotisations »: the schedule of the year, the next debit, payments and rejections, the
balance, the unpaid-premium letters, and the yearly payment certificate (PDF)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from mutualis.billing import dunning, ledger, letters, notice_letters, statement
from mutualis.billing.models import Instalment, Mandate
from mutualis.contracts.cover import cover_status
from mutualis.portal.access import MemberRequiredMixin


class PremiumsView(MemberRequiredMixin, TemplateView):
    template_name = "portal/premiums/overview.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member, today = self.member, timezone.localdate()
        years = sorted(
            set(Instalment.objects.filter(member=member).values_list("month__year", flat=True))
            | {today.year}
        )
        year = self._year(years, today.year)
        case = statement.open_case(member)
        contracts = list(member.contracts.select_related("offer"))
        for contract in contracts:
            contract.cover = cover_status(contract, on=today)
        notices = list(statement.notices_of(member, today=today))
        # A notice whose e-mail the member's mail server refused, still to be posted: the
        # member may correct the address here (billing.prenotify.address_corrected).
        refused = [
            n.email_refused_at
            for n in notices
            if n.email_refused_at and n.given_at is None and not n.superseded
        ]
        by_post = ""  # whether the notice goes by post: "oui", "sans adresse" or not at all
        if refused:
            waiting = notice_letters.letters(notice_letters.pending(today).filter(member=member))
            if waiting:
                by_post = "oui" if any(letter.addressed for letter in waiting) else "sans adresse"
        context.update(
            today=today,
            year=year,
            years=years,
            months=statement.schedule(member, year=year, today=today),
            next_debit=statement.next_debit(member, today=today),
            balance=ledger.balance(member, on=today),
            history=statement.history(member),
            notices=notices,
            email_refused_at=max(refused, default=None),
            by_post=by_post,
            case=case,
            case_dates=_case_dates(case),
            letters=statement.letters_of(member),
            certificate_years=statement.certificate_years(member, today=today),
            mandate=Mandate.objects.filter(member=member).current().first(),
            contracts=contracts,
        )
        return context

    def _year(self, years: list[int], default: int) -> int:
        raw = self.request.GET.get("annee", "")
        if raw.isdigit() and int(raw) in years:
            return int(raw)
        return default


def _case_dates(case) -> dict:
    if case is None:
        return {}
    return {
        "notice_possible": dunning.notice_possible_on(case),
        "suspension": dunning.suspension_on(case),
        "termination_possible": dunning.termination_possible_on(case),
    }


class CertificateView(MemberRequiredMixin, View):
    """The payment certificate of a year the member paid premiums in (``?annee=``, the latest
    such year by default)."""

    def get(self, request) -> HttpResponse:
        years = statement.certificate_years(self.member, today=timezone.localdate())
        raw = request.GET.get("annee", "")
        year = int(raw) if raw.isdigit() and len(raw) == 4 else (years[-1] if years else None)
        if year not in years:
            raise Http404("Aucun paiement enregistré cette année-là.")
        data = statement.certificate_pdf(self.member, year=year, actor=request.user)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="attestation-cotisations-{year}.pdf"'
        )
        return response


class LetterView(MemberRequiredMixin, TemplateView):
    """One of the member's unpaid-premium letters, as a page or as PDF (``?format=pdf``)."""

    template_name = "portal/premiums/letter.html"

    def get(self, request, *args, **kwargs):
        self.letter = get_object_or_404(statement.letters_of(self.member), pk=kwargs["pk"])
        if request.GET.get("format") == "pdf":
            response = HttpResponse(
                letters.render_pdf([self.letter]), content_type="application/pdf"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="lettre-{self.letter.kind}.pdf"'
            )
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            letter=self.letter,
            subject=letters.SUBJECTS[self.letter.kind],
            paragraphs=letters.body(self.letter).split("\n\n"),
        )
        return context
