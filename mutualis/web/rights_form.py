"""The public rights-request form: for anyone without an account (a prospect, a former member,
an heir). The request is held until its e-mail address is verified (``rights.public``); the form
is rate-limited per client and per address, like the contact form, so that nobody can use it to
flood someone's mailbox with links.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.rights import public
from mutualis.rights.models import Capacity
from mutualis.rights.services import RightsError
from mutualis.web.ratelimit import RateLimit, client_address

RATE_LIMITED = (
    "Plusieurs demandes ont déjà été envoyées en peu de temps : pour éviter les envois abusifs, "
    "ce formulaire est momentanément indisponible. Réessayez dans une heure, ou écrivez à notre "
    "délégué à la protection des données."
)
KIND_CHOICES = [("", "Choisissez")] + [(k.value, k.label) for k in public.PUBLIC_KINDS]
CAPACITY_CHOICES = [
    (Capacity.SELF, "Pour moi-même"),
    (Capacity.REPRESENTATIVE, "Pour une personne que je représente (tuteur, mandataire)"),
    (Capacity.HEIR, "Pour un proche décédé, en tant qu'héritier"),
]


def form_limit() -> RateLimit:
    return RateLimit(
        scope="rights",
        limit=settings.MUTUALIS_CONTACT_RATE_LIMIT,
        window=settings.MUTUALIS_CONTACT_RATE_WINDOW,
    )


def verify_limit() -> RateLimit:
    return RateLimit(scope="rights-verify", limit=20, window=settings.MUTUALIS_CONTACT_RATE_WINDOW)


class PublicRequestForm(forms.Form):
    kind = forms.ChoiceField(label="Votre demande", choices=KIND_CHOICES)
    capacity = forms.ChoiceField(
        label="Vous agissez", choices=CAPACITY_CHOICES, initial=Capacity.SELF
    )
    name = forms.CharField(
        label="Vos nom et prénom",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Votre adresse électronique",
        max_length=254,
        help_text="Nous vous y enverrons un lien pour confirmer la demande, puis notre réponse.",
        error_messages={"invalid": "Saisissez une adresse électronique valide."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    message = forms.CharField(
        label="Précisions (facultatif)",
        required=False,
        max_length=public.MESSAGE_MAX_CHARS,
        help_text="Par exemple votre ancien numéro d'adhérent, ou les données à corriger. "
        "N'y écrivez ni numéro de sécurité sociale ni IBAN.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )


def _link(request: HttpRequest):
    def build(token: str) -> str:
        path_ = reverse("web:rights-verify", args=[token])
        return settings.MUTUALIS_SITE_URL.rstrip("/") + path_

    return build


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    form = PublicRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            if not form_limit().allow(client_address(request), data["email"].lower()):
                form.add_error(None, RATE_LIMITED)
                status = 429
            else:
                try:
                    public.submit(
                        kind=data["kind"],
                        requester_name=data["name"],
                        requester_email=data["email"],
                        requester_capacity=data["capacity"],
                        message=data["message"],
                        link=_link(request),
                    )
                except RightsError as error:
                    form.add_error(None, str(error))
                    status = 400
                else:
                    return redirect("web:rights-sent")
        else:
            status = 400
    context = {"form": form, "hours": int(public.VERIFICATION_LIFETIME.total_seconds() // 3600)}
    return render(request, "web/rights_request.html", context, status=status)


@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    hours = int(public.VERIFICATION_LIFETIME.total_seconds() // 3600)
    return render(request, "web/rights_sent.html", {"hours": hours})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (a mail client that opens links in advance confirms nothing); POST
    confirms."""
    if request.method != "POST":
        return render(request, "web/rights_verify.html", {"token": token})
    if not verify_limit().allow(client_address(request)):
        return render(
            request, "web/rights_verify.html", {"token": token, "error": RATE_LIMITED}, status=429
        )
    try:
        rights_request = public.verify(token)
    except RightsError as error:
        return render(
            request, "web/rights_verify.html", {"token": token, "error": str(error)}, status=400
        )
    context = {"rights_request": rights_request}
    return render(request, "web/rights_verified.html", context)


urlpatterns = [
    path("", request_form, name="rights-form"),
    path("envoyee/", sent, name="rights-sent"),
    path("confirmer/<str:token>/", verify, name="rights-verify"),
]
