"""A member's communication choices as staff see them, and a choice recorded by staff from a
call, a letter, an e-mail or a visit, with its document (GDPR art. 7(1))."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.audit.services import holds_nir_or_iban
from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.campaigns.forms import ChoiceRecordForm
from mutualis.consent import receipts, services
from mutualis.consent.models import ConsentDocument, ConsentEvent, MarketingObjection
from mutualis.members.models import Member
from mutualis.members.roles import Permission, visible_categories
from mutualis.privacy import catalogue

HISTORY_SIZE = 30


def preferences_panel(member: Member, user) -> dict | None:
    """What the member record shows of the choices, for a service that sees them."""
    if catalogue.PREFERENCES not in visible_categories(user.role):
        return None
    person = member.person
    state = services.current_preferences(person)
    return {
        "granted": [receipts.choice_label(t, c) for (t, c), on in state.items() if on],
        "objection": services.has_objected_to_marketing(person),
        "can_record": user.has_perm(Permission.CONSENT_RECORD),
        "member": member,
    }


@staff_view(Permission.CONSENT_RECORD)
@require_http_methods(["GET", "HEAD", "POST"])
def record_choice(request: HttpRequest, member_id) -> HttpResponse:
    member = get_object_or_404(
        Member.objects.visible_to(request.user).select_related("person"), pk=member_id
    )
    person = member.person
    form = ChoiceRecordForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["document"]
        if holds_nir_or_iban(data["note"]):
            form.add_error("note", "N'y recopiez ni numéro de sécurité sociale ni IBAN.")
            form.data = form.data.copy()
            form.data["note"] = ""  # never written back into the page
        else:
            try:
                services.record_for_person(
                    person=person,
                    topic=data["topic"],
                    channel=data["channel"],
                    granted=data["granted"],
                    source=data["source"],
                    actor=request.user,
                    notice=data["notice"],
                    note=data["note"],
                    document=services.Document(
                        filename=upload.filename,
                        content=upload.content,
                        content_type=upload.declared_type,
                    )
                    if upload
                    else None,
                )
            except services.ObjectionInForce:
                form.add_error(
                    None,
                    "Cette personne s'oppose à toute prospection : seul son propre accord, "
                    "donné dans son espace adhérent, peut lever son opposition.",
                )
            except (services.DocumentRequired, services.UnknownChoice) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Choix enregistré, avec son justificatif.")
                return redirect("backoffice:record_choice", member.pk)
    history = (
        ConsentEvent.objects.filter(person=person)
        .select_related("notice", "document")
        .order_by("-at")[:HISTORY_SIZE]
    )
    context = {
        "member": member,
        "form": form,
        "history": history,
        "granted": [
            receipts.choice_label(topic, channel)
            for (topic, channel), on in services.current_preferences(person).items()
            if on
        ],
        "objection": MarketingObjection.objects.in_force().filter(person=person).first(),
    }
    return render_page(request, "backoffice/campaigns/record_choice.html", context)


@staff_view(Permission.CONSENT_RECORD)
@require_safe
def choice_document(request: HttpRequest, event_id) -> HttpResponse:
    document = get_object_or_404(
        ConsentDocument.objects.select_related("event"), pk=event_id, size__gt=0
    )
    get_object_or_404(Member.objects.visible_to(request.user), person_id=document.event.person_id)
    services.record_document_read(document=document, actor=request.user)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    return response
