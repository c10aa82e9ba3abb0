"""Campaigns in the back office: the list, composing, preview and audience, sending and its
progress. The writes are :mod:`mutualis.consent.campaigns`; these views only call them."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.campaigns.forms import CampaignForm
from mutualis.consent import campaigns, postal
from mutualis.consent import messages as campaign_messages
from mutualis.consent.models import Campaign, CampaignStatus, DeliveryStatus
from mutualis.consent.models.campaigns import KIND_TOPIC
from mutualis.members.roles import Permission

PAGE_SIZE = 50
# While a campaign is being sent, its page can reload itself (no script: the CSP forbids inline
# ones) so the progress bar moves; the reader turns it on and off.
REFRESH_SECONDS = 10
SAMPLE = {"first_names": "Camille", "last_name": "Exemple", "civility": "MME"}


def _campaign(campaign_id) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id)


def _can(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "manage": user.has_perm(Permission.CAMPAIGN_MANAGE),
        "send": user.has_perm(Permission.CAMPAIGN_SEND),
        "notices": user.has_perm(Permission.CAMPAIGN_MANAGE),
        "statistics": user.has_perm(Permission.STATISTICS_VIEW),
    }


@staff_view(Permission.CAMPAIGN_VIEW)
@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Campaign.objects.order_by("-created_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(campaign, campaigns.progress(campaign)) for campaign in page]
    context = {"page": page, "rows": rows, "can": _can(request)}
    return render_page(request, "backoffice/campaigns/list.html", context)


def _form_problems(form: CampaignForm, error: campaigns.CampaignInvalid) -> None:
    for field, message in error.problems.items():
        form.add_error(field if field in form.fields else None, message)


@staff_view(Permission.CAMPAIGN_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns.create_campaign(**form.cleaned_data, actor=request.user)
        except campaigns.CampaignInvalid as error:
            _form_problems(form, error)
        else:
            messages.success(request, "Campagne enregistrée en brouillon.")
            return redirect("backoffice:campaign_detail", campaign.pk)
    context = {"form": form, "campaign": None}
    return render_page(request, "backoffice/campaigns/form.html", context)


@staff_view(Permission.CAMPAIGN_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_edit(request: HttpRequest, campaign_id) -> HttpResponse:
    campaign = _campaign(campaign_id)
    if not campaign.is_editable:
        messages.info(request, "Une campagne dont l'envoi est lancé ne se modifie plus.")
        return redirect("backoffice:campaign_detail", campaign.pk)
    initial = {f: getattr(campaign, f) for f in ("title", "kind", "channel", "subject", "body")}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.edit_campaign(campaign=campaign, **form.cleaned_data, actor=request.user)
        except campaigns.CampaignError as error:
            if isinstance(error, campaigns.CampaignInvalid):
                _form_problems(form, error)
            else:
                form.add_error(None, str(error))
        else:
            messages.success(request, "Modifications enregistrées.")
            return redirect("backoffice:campaign_detail", campaign.pk)
    context = {"form": form, "campaign": campaign}
    return render_page(request, "backoffice/campaigns/form.html", context)


def preview(campaign: Campaign) -> dict[str, str]:
    """What a sample recipient would read: the e-mail's text part, or the letter's text."""
    if campaign.channel == "post":
        return {
            "subject": campaigns.personalise(campaign.subject, **SAMPLE),
            "text": campaigns.personalise(campaign.body, **SAMPLE)
            + "\n\n"
            + postal.letter_footer(campaign),
        }
    recipient = campaign_messages.Recipient(
        delivery_id=uuid.UUID(int=0), email="camille.exemple@example.org", consent_at=None, **SAMPLE
    )
    links = campaign_messages.Links(
        unsubscribe=lambda token: "[lien de désinscription propre à chaque destinataire]",
        preferences="[lien vers les préférences de l'espace adhérent]",
        policy="[lien vers la politique de confidentialité]",
    )
    message = campaign_messages.build(campaign, recipient, links)
    return {"subject": message.subject, "text": message.body}


@staff_view(Permission.CAMPAIGN_VIEW)
@require_safe
def campaign_detail(request: HttpRequest, campaign_id) -> HttpResponse:
    campaign = _campaign(campaign_id)
    progress = campaigns.progress(campaign)
    sending = campaign.status == CampaignStatus.SENDING
    # A page that reloads itself sets its reader a time limit (WCAG 2.2.1): it does so only
    # when asked (?suivre=1), with a link to stop it.
    following = sending and request.GET.get("suivre") == "1"
    context = {
        "campaign": campaign,
        "topic": KIND_TOPIC[campaign.kind],
        "preview": preview(campaign),
        "progress": progress,
        "statuses": [(s, progress.of(s)) for s in DeliveryStatus if progress.of(s)],
        **_audience(request, campaign),
        "can": _can(request),
        "sending": sending,
        "refresh": REFRESH_SECONDS if following else None,
        "refresh_seconds": REFRESH_SECONDS,
        "is_post": campaign.channel == "post",
    }
    return render_page(request, "backoffice/campaigns/detail.html", context)


def _audience(request: HttpRequest, campaign) -> dict:
    """A draft's audience if it were sent now: its size, counted up to the largest audience
    frozen at once; its step-by-step count below that size, or when asked (?decompte=1: it
    reads the whole audience, seconds at a million people)."""
    if not campaign.is_editable:
        return {"count": None, "reach": None}
    reach = campaigns.reach(campaign)
    small = reach <= campaigns.IN_REQUEST_RECIPIENTS
    asked = request.GET.get("decompte") == "1"
    return {
        "reach": reach,
        "reach_limit": campaigns.IN_REQUEST_RECIPIENTS,
        "count": (
            campaigns.audience_count(campaign, total=reach if small else None)
            if small or asked
            else None
        ),
    }


def _act(request: HttpRequest, campaign_id, action, done: str | dict) -> HttpResponse:
    """Apply ``action`` to the campaign and say how it went: ``done``, or ``done`` of the
    status the campaign reached."""
    campaign = _campaign(campaign_id)
    try:
        campaign = action(campaign=campaign, actor=request.user)
    except campaigns.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done[campaign.status] if isinstance(done, dict) else done)
    return redirect("backoffice:campaign_detail", campaign.pk)


@staff_view(Permission.CAMPAIGN_SEND)
@require_POST
def campaign_send(request: HttpRequest, campaign_id) -> HttpResponse:
    return _act(request, campaign_id, campaigns.request_sending, _SEND_DONE)


_SEND_DONE = {
    CampaignStatus.SENDING: (
        "Envoi lancé : les destinataires sont arrêtés et inscrits au journal des envois. Les "
        "messages partent au rythme de la tâche d'envoi."
    ),
    CampaignStatus.PREPARING: (
        "Envoi demandé. L'audience est trop grande pour être arrêtée tout de suite : la tâche "
        "d'envoi l'arrête à son prochain passage et inscrit chaque destinataire au journal des "
        "envois, puis les messages partent à son rythme."
    ),
}


@staff_view(Permission.CAMPAIGN_SEND)
@require_POST
def campaign_pause(request: HttpRequest, campaign_id) -> HttpResponse:
    return _act(request, campaign_id, campaigns.pause, "Envoi suspendu après le message en cours.")


@staff_view(Permission.CAMPAIGN_SEND)
@require_POST
def campaign_resume(request: HttpRequest, campaign_id) -> HttpResponse:
    return _act(request, campaign_id, campaigns.resume, "Envoi repris.")


@staff_view(Permission.CAMPAIGN_SEND)
@require_POST
def campaign_cancel(request: HttpRequest, campaign_id) -> HttpResponse:
    return _act(
        request, campaign_id, campaigns.cancel, "Campagne annulée : plus rien ne sera envoyé."
    )


@staff_view(Permission.CAMPAIGN_VIEW)
@require_safe
def campaign_log(request: HttpRequest, campaign_id) -> HttpResponse:
    """The send log: who, which revision, on which consent, when, with what outcome."""
    campaign = _campaign(campaign_id)
    status = request.GET.get("etat", "")
    rows = campaign.deliveries.select_related("person", "consent_event").order_by(
        "person__last_name", "person__first_names", "id"
    )
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "campaign": campaign,
        "page": page,
        "status": status,
        "statuses": DeliveryStatus.choices,
        "progress": campaigns.progress(campaign),
    }
    return render_page(request, "backoffice/campaigns/log.html", context)
