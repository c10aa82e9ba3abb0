"""The public contact form (policy section 1-A; complaints: section 7, ACPR 2022-R-01).

Visitors and prospects write here; the message opens an inquiry on the ``web_form`` channel. The
form resists abuse without any third-party service:

- a honeypot field, hidden by the stylesheet: a robot that fills it is shown the thank-you page
  and nothing is stored;
- a rate limit per client address and per e-mail address (:mod:`mutualis.web.ratelimit`);
- length limits on every field, a size limit on the attachment enforced while it streams in
  (:mod:`mutualis.lib.uploads`), and file types checked by content, not by name.

A visitor who ticks "this is a complaint" has expressed dissatisfaction in their own words: the
inquiry is qualified as a complaint at once, so the ACPR deadlines (counted from receipt anyway)
show in the réclamations queue from the first day. The réclamations service can still answer
that it is a mere request. Without the box ticked, staff qualify the inquiry when they read it.

Module layout: the form, the two views, and the ``urlpatterns`` that ``web/urls.py`` includes
under ``contact/`` (same ``web`` namespace).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from mutualis.contact import deadlines, services
from mutualis.contact.forms import AttachmentField, PhoneField, message_field, too_large_message
from mutualis.contact.models import Channel, ComplainantType
from mutualis.lib.uploads import declared_length, limit_upload_size
from mutualis.privacy import catalogue
from mutualis.privacy.policy import CNIL
from mutualis.web.ratelimit import client_address, contact_form_limit

HONEYPOT = "site_web"
RATE_LIMITED = (
    "Vous nous avez déjà écrit plusieurs fois en peu de temps : pour éviter les envois abusifs, "
    "ce formulaire est momentanément indisponible pour vous. Réessayez dans une heure, ou "
    "écrivez-nous par courriel ou par courrier."
)
# Room for the text fields and the multipart envelope around the attachment.
_REQUEST_OVERHEAD = 64 * 1024

COMPLAINANT_CHOICES = [
    ("", "Je préfère ne pas le préciser"),
    (ComplainantType.PROSPECT, "Je ne suis pas adhérent(e)"),
    (ComplainantType.MEMBER, "Je suis adhérent(e)"),
    (ComplainantType.FORMER_MEMBER, "J'ai été adhérent(e)"),
    (ComplainantType.BENEFICIARY, "Je suis bénéficiaire du contrat d'un proche"),
    (ComplainantType.HEIR, "J'écris pour un proche décédé"),
]


class ContactForm(forms.Form):
    name = forms.CharField(
        label="Vos nom et prénom",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Votre adresse électronique",
        max_length=254,
        help_text="Nous vous répondrons à cette adresse.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PhoneField(help_text="Si vous préférez être rappelé(e).")
    subject = forms.CharField(label="Objet de votre message", max_length=200)
    message = forms.CharField()  # replaced in __init__: its limit is read from the settings
    attachment = AttachmentField()
    is_complaint = forms.BooleanField(
        label="Mon message est une réclamation : j'exprime un mécontentement",
        help_text="Nous en accuserons réception sous 10 jours ouvrés et vous répondrons dans "
        "les 2 mois.",
        required=False,
    )
    # Asked only for the complaints register (who complains, ACPR 2022-R-01); ignored otherwise.
    who = forms.ChoiceField(
        label="Pour une réclamation, vous êtes (facultatif)",
        choices=COMPLAINANT_CHOICES,
        required=False,
    )
    # The honeypot: hidden from people by the stylesheet (class "contact-trap") and from
    # assistive technologies (aria-hidden), left empty by anyone but a robot.
    site_web = forms.CharField(
        label="Laissez ce champ vide",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["message"] = message_field()


def _notice() -> dict:
    """The information notice under the form (GDPR art. 13), read from the declaration."""
    purposes = []
    for purpose in (catalogue.INQUIRIES, catalogue.COMPLAINTS):
        basis = purpose.legal_basis
        purposes.append(
            {
                "title": purpose.title,
                "section": purpose.sections_label,
                "basis": f"{basis.label} ({basis.article})" if basis else "",
                "basis_detail": purpose.legal_basis_detail,
                "retention": purpose.retention.summary if purpose.retention else "",
                "recipients": [r.label for r in purpose.recipients],
            }
        )
    return {"purposes": purposes, "cnil": CNIL}


def _render(
    request: HttpRequest, form: ContactForm, *, status: int = 200, refused: str = ""
) -> HttpResponse:
    context = {"form": form, "notice": _notice(), "honeypot": form[HONEYPOT], "refused": refused}
    return render(request, "web/contact.html", context, status=status)


def _max_request_bytes() -> int:
    return (
        settings.MUTUALIS_UPLOAD_MAX_BYTES
        + 4 * (settings.MUTUALIS_MESSAGE_MAX_CHARS + 1000)
        + _REQUEST_OVERHEAD
    )


@csrf_exempt  # CSRF is checked by _contact (csrf_protect) once the upload limit is installed
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _contact(request, None)
    if declared_length(request) > _max_request_bytes():
        # Refused before the body is read: nothing of it reaches the disk.
        return _render(request, ContactForm(), status=413, refused=too_large_message())
    handler = limit_upload_size(request, settings.MUTUALIS_UPLOAD_MAX_BYTES)
    return _contact(request, handler)


@csrf_protect
def _contact(request: HttpRequest, handler) -> HttpResponse:
    if request.method != "POST":
        return _render(request, ContactForm())
    if request.POST.get(HONEYPOT, "").strip():
        return redirect("web:contact-thanks")  # a robot: pretend, store nothing
    form = ContactForm(request.POST, request.FILES)
    valid = form.is_valid()
    if handler is not None and handler.exceeded:
        form.add_error("attachment", too_large_message())
        valid = False
    if not valid:
        return _render(request, form)
    data = form.cleaned_data
    if not contact_form_limit().allow(client_address(request), data["email"].lower()):
        form.add_error(None, RATE_LIMITED)
        return _render(request, form, status=429)
    with transaction.atomic():
        inquiry = services.open_inquiry(
            channel=Channel.WEB_FORM,
            subject=data["subject"],
            body=data["message"],
            contact_name=data["name"],
            contact_email=data["email"],
            contact_phone=data["phone"],
            sender=data["email"],
            files=[data["attachment"]] if data["attachment"] else [],
        )
        if data["is_complaint"]:
            services.qualify_as_complaint(
                inquiry=inquiry,
                complainant_type=data["who"] or ComplainantType.OTHER,
                reason=data["subject"],
            )
    return redirect("web:contact-thanks")


@require_safe
def thanks(request: HttpRequest) -> HttpResponse:
    context = {
        "answer_days": settings.MUTUALIS_INQUIRY_ANSWER_DAYS,
        "ack_days": deadlines.COMPLAINT_ACK_WORKING_DAYS,
        "complaint_months": deadlines.COMPLAINT_ANSWER_MONTHS,
    }
    return render(request, "web/contact_thanks.html", context)


urlpatterns = [
    path("", contact, name="contact"),
    path("merci/", thanks, name="contact-thanks"),
]
