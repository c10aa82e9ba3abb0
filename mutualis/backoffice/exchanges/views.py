"""The files sent to the mandatory schemes, and the queue of rejected people for *gestion*.

People are named by member number or id; the reject reason is the scheme's own label. The NIR a
line carried is never shown here (the member record reveals it, audited, to whom may see it).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.members.models import Member, Person
from mutualis.members.roles import Permission
from mutualis.recipients.exchange import inbound
from mutualis.recipients.models_exchange import ExchangeFile, ExchangeLine

SHOWN = 30


@staff_view(Permission.EXCHANGE_MANAGE)
@require_safe
def exchange_list(request: HttpRequest) -> HttpResponse:
    queue = list(ExchangeLine.objects.to_resolve().select_related("exchange__organisation")[:200])
    members = dict(
        Member.objects.filter(person_id__in=[line.subject_id for line in queue]).values_list(
            "person_id", "number"
        )
    )
    context = {
        "exchanges": ExchangeFile.objects.select_related("organisation")[:SHOWN],
        "queue": [(line, members.get(_uuid(line.subject_id), "")) for line in queue],
    }
    return render_page(request, "backoffice/exchanges/list.html", context)


def _uuid(text: str):
    try:
        return Person._meta.pk.to_python(text)
    except ValidationError:  # a line without a person: nothing to look up
        return None


@staff_view(Permission.EXCHANGE_MANAGE)
@require_POST
def rejection_resolve(request: HttpRequest, line_id: int) -> HttpResponse:
    line = get_object_or_404(ExchangeLine, pk=line_id)
    try:
        inbound.resolve_rejection(
            line=line, resolution=request.POST.get("resolution", ""), actor=request.user
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Le rejet de la ligne {line.number} est traité.")
    return redirect("backoffice:exchange_list")
