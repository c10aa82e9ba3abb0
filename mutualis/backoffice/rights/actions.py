"""The steps of a rights request, taken by staff who decide (``rights:request:decide``).

Each view posts one form of the request page to one service of :mod:`mutualis.rights.services`;
a refusal of the rules (:class:`~mutualis.rights.services.RightsError`, French) is shown on the
page with the form, nothing changed. The services write the history, the audit and the mails.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from mutualis.backoffice.access import staff_view
from mutualis.backoffice.rights import forms
from mutualis.backoffice.rights.views import find_request, request_page
from mutualis.members.roles import Permission
from mutualis.portal.links import RIGHTS_LINKS
from mutualis.rights import handlers, objection, processing, services
from mutualis.rights.models import RightsRequest, Status


def _back(rights_request: RightsRequest) -> HttpResponse:
    return redirect("backoffice:rights_request", request_id=rights_request.pk)


def _step(
    request: HttpRequest,
    request_id,
    *,
    form: Callable[..., forms.RightsForm],
    prefix: str,
    run: Callable[[RightsRequest, forms.RightsForm], RightsRequest],
    done: Callable[[RightsRequest], str],
) -> HttpResponse:
    """Validate the posted form, run the service; show the page again on any refusal."""
    rights_request = find_request(request, request_id)
    posted = form(request.POST, prefix=prefix)
    if posted.is_valid():
        try:
            rights_request = run(rights_request, posted)
        except services.RightsError as error:
            posted.add_error(None, str(error))
        else:
            messages.success(request, done(rights_request))
            return _back(rights_request)
    posted.scrub()
    return request_page(request, rights_request, status=400, bound=posted)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def identity_check(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.IdentityCheckForm,
        prefix="identite",
        run=lambda rr, f: services.record_identity_check(
            request=rr,
            method=f.cleaned_data["method"],
            note=f.cleaned_data["note"],
            actor=request.user,
        ),
        done=lambda rr: (
            "Identité vérifiée : la demande est en cours de traitement, réponse due "
            f"au plus tard le {rr.due_date:%d/%m/%Y}."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def ask_document(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.AskDocumentForm,
        prefix="justificatif",
        run=lambda rr, f: services.ask_identity_document(
            request=rr, reason=f.cleaned_data["reason"], actor=request.user
        ),
        done=lambda rr: (
            "Justificatif demandé au demandeur : le délai de réponse est suspendu "
            "jusqu'à sa réception."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def extend(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.ExtendForm,
        prefix="prolongation",
        run=lambda rr, f: services.extend(
            request=rr,
            reason=f.cleaned_data["reason"],
            months=f.cleaned_data["months"],
            actor=request.user,
        ),
        done=lambda rr: (
            "Délai prolongé, le demandeur en est informé : réponse due au plus tard "
            f"le {rr.due_date:%d/%m/%Y}."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def answer(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.AnswerForm,
        prefix="reponse",
        run=lambda rr, f: services.answer(
            request=rr,
            outcome=f.cleaned_data["outcome"],
            text=f.cleaned_data["text"],
            reasons=f.cleaned_data["reasons"],
            actor=request.user,
        ),
        done=lambda rr: "Réponse envoyée au demandeur (elle rappelle son droit de saisir la CNIL).",
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def refuse(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.RefuseForm,
        prefix="refus",
        run=lambda rr, f: services.refuse(
            request=rr, reasons=f.cleaned_data["reasons"], actor=request.user
        ),
        done=lambda rr: (
            "Refus motivé envoyé au demandeur (il rappelle son droit de saisir la CNIL)."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def attach(request: HttpRequest, request_id) -> HttpResponse:
    """Attach a request filed without a person to the person it concerns (audited)."""

    def run(rr, f):
        return services.attach_person(request=rr, person=f.person, actor=request.user)

    return _step(
        request,
        request_id,
        form=forms.AttachPersonForm,
        prefix="rattacher",
        run=run,
        done=lambda rr: f"Demande rattachée à {rr.person.full_name}.",
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def note(request: HttpRequest, request_id) -> HttpResponse:
    def run(rr, f):
        services.add_note(request=rr, note=f.cleaned_data["note"], actor=request.user)
        return rr

    return _step(
        request,
        request_id,
        form=forms.NoteForm,
        prefix="note",
        run=run,
        done=lambda rr: "Note ajoutée à l'historique.",
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def decide_objection(request: HttpRequest, request_id) -> HttpResponse:
    return _step(
        request,
        request_id,
        form=forms.ObjectionDecisionForm,
        prefix="opposition",
        run=lambda rr, f: objection.decide_objection(
            request=rr, upheld=f.upheld, grounds=f.cleaned_data["grounds"], actor=request.user
        ),
        done=lambda rr: (
            "Opposition admise : le traitement est limité, la personne est informée."
            if rr.status == Status.ANSWERED
            else "Opposition rejetée : le refus motivé est envoyé à la personne."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def rectify(request: HttpRequest, request_id) -> HttpResponse:
    rights_request = find_request(request, request_id)
    try:
        requested = handlers.requested_changes(rights_request)
    except services.RightsError as error:
        messages.error(request, str(error))
        return _back(rights_request)

    def form(*args, **kwargs):
        return forms.RectificationApplyForm(*args, requested=requested, **kwargs)

    return _step(
        request,
        request_id,
        form=form,
        prefix="rectification",
        run=lambda rr, f: handlers.apply_rectification(
            request=rr, changes=f.changes, actor=request.user
        ),
        done=lambda rr: (
            "Rectification appliquée ; les destinataires des anciennes valeurs "
            "sont informés et la réponse est envoyée."
        ),
    )


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def process(request: HttpRequest, request_id) -> HttpResponse:
    """Run the kind's automatic handler (export, erasure, restriction…)."""
    rights_request = find_request(request, request_id)
    if rights_request.status != Status.IN_PROGRESS or rights_request.person_id is None:
        messages.error(
            request,
            "Le traitement automatique porte sur une demande en cours, dont l'identité est "
            "vérifiée et la personne concernée retrouvée.",
        )
        return _back(rights_request)
    try:
        rights_request = processing.process(
            request=rights_request, actor=request.user, links=RIGHTS_LINKS
        )
    except services.RightsError as error:
        messages.error(request, str(error))
        return _back(rights_request)
    if rights_request.status == Status.IN_PROGRESS:
        messages.info(
            request,
            "Traitement effectué ; une décision est attendue (voir la dernière étape de "
            "l'historique).",
        )
    else:
        messages.success(
            request, f"Traitement effectué : {rights_request.get_status_display().lower()}."
        )
    return _back(rights_request)


@staff_view(Permission.RIGHTS_DECIDE)
@require_POST
def close(request: HttpRequest, request_id) -> HttpResponse:
    rights_request = find_request(request, request_id)
    try:
        services.close(request=rights_request, actor=request.user)
    except services.RightsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Demande close : sa durée de conservation commence.")
    return _back(rights_request)


@staff_view(Permission.RIGHTS_DECIDE, recent_auth=True)
@require_POST
def export(request: HttpRequest, request_id) -> HttpResponse:
    """The copy an access or portability request gives, for postal sending (audited)."""
    rights_request = find_request(request, request_id)
    try:
        filename, content, content_type = handlers.export_file(
            request=rights_request, actor=request.user
        )
    except services.RightsError as error:
        messages.error(request, str(error))
        return _back(rights_request)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
