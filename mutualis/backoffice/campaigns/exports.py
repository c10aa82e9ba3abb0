"""Campaigns by post in the back office: handing them to the printer, and the printer's files."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from mutualis.backoffice.access import staff_view
from mutualis.consent import postal
from mutualis.consent.models import Campaign, DeliveryStatus
from mutualis.members.roles import Permission


def _postal_campaign(campaign_id) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id, channel="post")


@staff_view(Permission.CAMPAIGN_SEND)
@require_POST
def hand_to_printer(request: HttpRequest, campaign_id) -> HttpResponse:
    campaign = _postal_campaign(campaign_id)
    try:
        count = postal.hand_to_printer(campaign=campaign, actor=request.user)
    except postal.PostalError as error:
        messages.error(request, str(error))
    else:
        if count:
            messages.success(
                request,
                f"{count} courrier{'s' if count > 1 else ''} remis à l'imprimeur : "
                "téléchargez les fichiers ci-dessous.",
            )
        else:
            messages.info(request, "Cette campagne a déjà été remise à l'imprimeur.")
    return redirect("backoffice:campaign_detail", campaign.pk)


def _download(request: HttpRequest, campaign_id, kind: str) -> HttpResponse:
    campaign = _postal_campaign(campaign_id)
    if not campaign.deliveries.filter(status=DeliveryStatus.EXPORTED).exists():
        messages.error(request, "Remettez d'abord la campagne à l'imprimeur.")
        return redirect("backoffice:campaign_detail", campaign.pk)
    if kind == "csv":
        content, content_type = postal.csv_file(campaign, actor=request.user), "text/csv"
    else:
        content, content_type = postal.pdf_file(campaign, actor=request.user), "application/pdf"
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    filename = f"courrier-{str(campaign.pk)[:8]}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_view(Permission.CAMPAIGN_SEND, recent_auth=True)
@require_safe
def printer_csv(request: HttpRequest, campaign_id) -> HttpResponse:
    return _download(request, campaign_id, "csv")


@staff_view(Permission.CAMPAIGN_SEND, recent_auth=True)
@require_safe
def printer_pdf(request: HttpRequest, campaign_id) -> HttpResponse:
    return _download(request, campaign_id, "pdf")
