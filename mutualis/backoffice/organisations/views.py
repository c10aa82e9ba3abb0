"""Organisations (health professionals, schemes, authorities) and their API keys.

A new or rotated key is shown once, in the answer to the POST that made it (never stored in
clear, never put in a URL, a message or the session); afterwards only its public prefix shows.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualis.backoffice.access import render_page, staff_view
from mutualis.backoffice.organisations.forms import KeyForm, OrganisationForm, RotationForm
from mutualis.members.roles import Permission
from mutualis.recipients import services
from mutualis.recipients.models import Credential, Organisation, OrganisationKind


def _bind_errors(form, error: ValidationError) -> None:
    for name, messages_ in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages_)


@staff_view(Permission.ORGANISATION_VIEW)
@require_safe
def organisation_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("nature", "")
    organisations = Organisation.objects.order_by("kind", "name")
    if kind in OrganisationKind.values:
        organisations = organisations.filter(kind=kind)
    context = {
        "organisations": organisations,
        "kinds": OrganisationKind.choices,
        "kind": kind,
        "can_manage": request.user.has_perm(Permission.ORGANISATION_MANAGE),
    }
    return render_page(request, "backoffice/organisations/list.html", context)


@staff_view(Permission.ORGANISATION_MANAGE)
@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.register_organisation(
                data=form.data_object(), actor=request.user
            )
        except ValidationError as error:
            _bind_errors(form, error)
        else:
            messages.success(request, f"{organisation.name} est enregistré.")
            return redirect("backoffice:organisation_detail", organisation.pk)
    return render_page(
        request, "backoffice/organisations/form.html", {"form": form, "organisation": None}
    )


def _detail(request: HttpRequest, organisation: Organisation, **extra) -> HttpResponse:
    context = {
        "organisation": organisation,
        "credentials": organisation.credentials.select_related("replaces"),
        "notices": organisation.notices.order_by("-created_at")[:20],
        "uses_api": organisation.kind not in (OrganisationKind.SCHEME, OrganisationKind.AUTHORITY),
        "can_manage": request.user.has_perm(Permission.ORGANISATION_MANAGE),
        "key_form": extra.pop("key_form", None) or KeyForm(),
        "rotation_form": RotationForm(),
        **extra,
    }
    return render_page(request, "backoffice/organisations/detail.html", context)


@staff_view(Permission.ORGANISATION_VIEW)
@require_safe
def organisation_detail(request: HttpRequest, organisation_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Organisation, pk=organisation_id))


@staff_view(Permission.ORGANISATION_MANAGE)
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    form = (
        OrganisationForm(request.POST)
        if request.method == "POST"
        else OrganisationForm.of(organisation)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(
                organisation=organisation, data=form.data_object(), actor=request.user
            )
        except ValidationError as error:
            _bind_errors(form, error)
        else:
            messages.success(request, "Les modifications sont enregistrées.")
            return redirect("backoffice:organisation_detail", organisation.pk)
    return render_page(
        request, "backoffice/organisations/form.html", {"form": form, "organisation": organisation}
    )


@staff_view(Permission.ORGANISATION_MANAGE)
@require_POST
def organisation_activation(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    services.set_active(
        organisation=organisation, active=not organisation.is_active, actor=request.user
    )
    state = "réactivé" if organisation.is_active else "suspendu : ses clés sont refusées"
    messages.success(request, f"{organisation.name} est {state}.")
    return redirect("backoffice:organisation_detail", organisation.pk)


def _shown_once(request, organisation, credential, key) -> HttpResponse:
    return _detail(request, organisation, new_key=key, new_credential=credential)


@staff_view(Permission.ORGANISATION_MANAGE, recent_auth=True)
@require_POST
def key_create(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _detail(request, organisation, key_form=form)
    try:
        credential, key = services.issue_key(
            organisation=organisation,
            scopes=form.cleaned_data["scopes"],
            label=form.cleaned_data["label"],
            expires_at=form.expires_at(),
            actor=request.user,
        )
    except services.RecipientsError as error:
        form.add_error(None, str(error))
        return _detail(request, organisation, key_form=form)
    return _shown_once(request, organisation, credential, key)


@staff_view(Permission.ORGANISATION_MANAGE, recent_auth=True)
@require_POST
def key_rotate(request: HttpRequest, organisation_id: int, credential_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    credential = get_object_or_404(Credential, pk=credential_id, organisation=organisation)
    form = RotationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Le chevauchement est un nombre de jours de 0 à 90.")
        return redirect("backoffice:organisation_detail", organisation.pk)
    try:
        new, key = services.rotate_key(
            credential=credential,
            overlap=datetime.timedelta(days=form.cleaned_data["overlap_days"]),
            actor=request.user,
        )
    except services.RecipientsError as error:
        messages.error(request, str(error))
        return redirect("backoffice:organisation_detail", organisation.pk)
    return _shown_once(request, organisation, new, key)


@staff_view(Permission.ORGANISATION_MANAGE)
@require_POST
def key_revoke(request: HttpRequest, organisation_id: int, credential_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    credential = get_object_or_404(Credential, pk=credential_id, organisation=organisation)
    services.revoke_key(credential=credential, actor=request.user)
    messages.success(request, f"La clé {credential} est révoquée.")
    return redirect("backoffice:organisation_detail", organisation.pk)
