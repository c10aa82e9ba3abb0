"""Revealing a masked NIR or IBAN: a POST with a reason, audited by the domain service.

The value is shown once, in the response to that POST: never in a URL, never kept in the
session or in a flash message, never cached (``Cache-Control: no-store``). A reason that holds a
NIR or an IBAN is refused by the audit log itself (``PersonalDataInAuditEvent``), and is not
written back into the page.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from stdnum import iban as stdnum_iban

from mutualis.audit.security import record_security_event
from mutualis.audit.services import PersonalDataInAuditEvent
from mutualis.backoffice.access import forbidden, render_page, staff_view
from mutualis.backoffice.members.forms import RevealForm
from mutualis.billing import services as billing
from mutualis.billing.models import Mandate
from mutualis.members import services as members
from mutualis.members.models import Member, Person
from mutualis.members.roles import Permission, visible_categories
from mutualis.members.validators import normalize_nir
from mutualis.privacy import catalogue
from mutualis.vault.erased import is_erased

NOT_YOUR_CATEGORY = "Votre service n'a pas accès à cette catégorie de données."
PERSONAL_DATA_IN_REASON = (
    "Le motif ne doit contenir ni numéro de sécurité sociale ni IBAN : décrivez la raison de la "
    "consultation (par exemple « demande de la caisse primaire du 12 mars »)."
)


def _member(request: HttpRequest, member_id) -> Member:
    return get_object_or_404(
        Member.objects.visible_to(request.user).select_related("person"), pk=member_id
    )


def _sees(request: HttpRequest, category) -> bool:
    # The permission implies the category today; both are checked so neither can drift alone.
    return category in visible_categories(request.user.role)


def format_nir(value: str) -> str:
    nir = normalize_nir(value)
    if len(nir) != 15:
        return value
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def format_iban(value: str) -> str:
    return stdnum_iban.format(value)


def _reveal(request: HttpRequest, *, reveal, context: dict, kind: str) -> HttpResponse:
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            value = reveal(form.cleaned_data["reason"])
        except PersonalDataInAuditEvent:
            form.add_error("reason", PERSONAL_DATA_IN_REASON)
            form.data = form.data.copy()
            form.data["reason"] = ""
        except ValueError as exc:  # the service's own check of the reason
            form.add_error("reason", str(exc))
        else:
            # A staff security action: the security log keeps where it came from (network and
            # keyed hash of the address); the audit event, who and whose.
            record_security_event(kind, request=request, actor=request.user)
            context.update(value=value, reason=form.cleaned_data["reason"])
            return render_page(request, "backoffice/members/revealed.html", context)
    context["form"] = form
    return render_page(request, "backoffice/members/reveal_form.html", context)


@staff_view(Permission.NIR_REVEAL)
@require_POST
def reveal_nir(request: HttpRequest, member_id, person_id) -> HttpResponse:
    if not _sees(request, catalogue.ADMINISTRATIVE):
        return forbidden(request, NOT_YOUR_CATEGORY)
    member = _member(request, member_id)
    person = get_object_or_404(
        Person.objects.filter(Q(member=member) | Q(beneficiary__member=member)), pk=person_id
    )
    if person.nir is None or is_erased(person.nir):
        raise Http404("Aucun numéro de sécurité sociale propre à cette personne.")

    def reveal(reason: str) -> str:
        return format_nir(members.reveal_nir(person=person, actor=request.user, reason=reason))

    context = {
        "member": member,
        "kind": "nir",
        "what": "le numéro de sécurité sociale",
        "whose": person.full_name,
        "action": request.path,
    }
    return _reveal(request, reveal=reveal, context=context, kind=Permission.NIR_REVEAL)


@staff_view(Permission.IBAN_REVEAL)
@require_POST
def reveal_iban(request: HttpRequest, member_id, mandate_id) -> HttpResponse:
    if not _sees(request, catalogue.BANK):
        return forbidden(request, NOT_YOUR_CATEGORY)
    member = _member(request, member_id)
    mandate = get_object_or_404(Mandate.objects.filter(member=member), pk=mandate_id)
    if is_erased(mandate.iban):
        raise Http404("Cet IBAN a été effacé.")

    def reveal(reason: str) -> str:
        return format_iban(billing.reveal_iban(mandate=mandate, actor=request.user, reason=reason))

    context = {
        "member": member,
        "kind": "iban",
        "what": "l'IBAN du mandat " + mandate.reference,
        "whose": mandate.debtor_name,
        "action": request.path,
    }
    return _reveal(request, reveal=reveal, context=context, kind=Permission.IBAN_REVEAL)
