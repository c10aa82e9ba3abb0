"""Receipts of the member's own consents and withdrawals: a readable page and a JSON file
(schema ``mutualis.consent-receipt/1``, shaped on ISO/IEC TS 27560 and the Kantara consent
receipt). Another member's receipt is a 404, like everything that is not one's own."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import View

from mutualis.consent import receipts
from mutualis.consent.models import ConsentEvent
from mutualis.portal.access import MemberRequiredMixin


class _ReceiptMixin(MemberRequiredMixin):
    http_method_names = ["get", "head"]

    def event(self, event_id) -> ConsentEvent:
        return get_object_or_404(
            ConsentEvent.objects.select_related("notice", "person"),
            pk=event_id,
            person=self.member.person,
        )

    def receipt(self, event: ConsentEvent) -> dict:
        policy_url = self.request.build_absolute_uri(reverse("web:policy"))
        return receipts.receipt(event, policy_url=policy_url)


class ReceiptView(_ReceiptMixin, View):
    def get(self, request, event_id):
        from django.shortcuts import render

        event = self.event(event_id)
        receipts.record_receipt_download(event=event, actor=request.user, kind="html")
        context = {"event": event, "receipt": self.receipt(event), "member": self.member}
        return render(request, "portal/preferences/receipt.html", context)


class ReceiptJsonView(_ReceiptMixin, View):
    def get(self, request, event_id):
        event = self.event(event_id)
        receipts.record_receipt_download(event=event, actor=request.user, kind="json")
        policy_url = request.build_absolute_uri(reverse("web:policy"))
        response = HttpResponse(
            receipts.receipt_json(event, policy_url=policy_url),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="recu-consentement-{str(event.pk)[:8]}.json"'
        )
        return response
