"""Back-office forms for inquiries and complaints. Labels and messages in French."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.contact.forms import AttachmentField, PhoneField, message_field
from mutualis.contact.models import SERVICE_CHOICES, Channel, ComplainantType, Outcome, Status
from mutualis.members.models import Member, User

_MEMBER_NUMBER = re.compile(r"A\d{9}")
REGISTER_CHANNELS = [
    (Channel.PHONE, Channel.PHONE.label),
    (Channel.LETTER, Channel.LETTER.label),
    (Channel.IN_PERSON, "Visite à l'accueil"),
]


class AnswerForm(forms.Form):
    body = forms.CharField()
    close = forms.BooleanField(
        label="Clore la demande avec cette réponse",
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"] = message_field(
            "Votre réponse",
            help_text="Envoyée par courriel, et visible dans l'espace adhérent pour un adhérent.",
        )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Nouvel état", choices=Status.choices)


class AssignForm(forms.Form):
    service = forms.ChoiceField(label="Transmettre au service", choices=SERVICE_CHOICES)


class QualifyForm(forms.Form):
    complainant_type = forms.ChoiceField(label="Réclamant", choices=ComplainantType.choices)
    product = forms.CharField(
        label="Produit ou contrat concerné (facultatif)", max_length=100, required=False
    )
    reason = forms.CharField(label="Motif de la réclamation", max_length=200)


class CloseComplaintForm(forms.Form):
    outcome = forms.ChoiceField(label="Issue", choices=Outcome.choices)
    mediation = forms.BooleanField(label="Le médiateur a été saisi", required=False)
    root_cause = forms.CharField(
        label="Cause première (facultatif)",
        max_length=200,
        required=False,
        help_text="Pour le registre des réclamations : ce qui, dans nos processus, a causé "
        "le mécontentement.",
    )


class RegisterForm(forms.Form):
    """A phone call, a letter or a visit, registered by staff (policy section 1-A)."""

    channel = forms.ChoiceField(
        label="Canal", choices=REGISTER_CHANNELS, widget=forms.RadioSelect, initial=Channel.PHONE
    )
    received_on = forms.DateField(
        label="Reçu le",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="La date de réception fait courir les délais de réponse.",
    )
    member = forms.CharField(
        label="Numéro d'adhérent ou adresse électronique de l'adhérent (facultatif)",
        max_length=254,
        required=False,
        help_text="Laissez vide pour une personne qui n'est pas adhérente, et renseignez "
        "ses coordonnées ci-dessous.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contact_name = forms.CharField(
        label="Nom et prénom",
        max_length=150,
        required=False,
        help_text="Obligatoire quand la personne n'est pas retrouvée par son numéro d'adhérent.",
    )
    contact_email = forms.EmailField(
        label="Adresse électronique (facultatif)", max_length=254, required=False
    )
    contact_phone = PhoneField()
    contact_address = forms.CharField(
        label="Adresse postale (facultatif)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    subject = forms.CharField(label="Objet", max_length=200)
    body = forms.CharField()
    attachment = AttachmentField(label="Scan du courrier (facultatif)")
    service = forms.ChoiceField(label="Service chargé de la demande", choices=SERVICE_CHOICES)
    is_complaint = forms.BooleanField(
        label="La personne exprime un mécontentement : qualifier en réclamation",
        required=False,
    )
    complainant_type = forms.ChoiceField(
        label="Réclamant", choices=ComplainantType.choices, required=False
    )
    reason = forms.CharField(label="Motif de la réclamation", max_length=200, required=False)
    product = forms.CharField(
        label="Produit ou contrat concerné (facultatif)", max_length=100, required=False
    )

    def __init__(self, *args, user: User, may_qualify: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["body"] = message_field(
            "Résumé de l'appel ou de la visite, ou contenu du courrier"
        )
        self.fields["received_on"].initial = timezone.localdate()
        services = dict(SERVICE_CHOICES)
        self.fields["service"].initial = (
            user.role if user.role in services else SERVICE_CHOICES[0][0]
        )
        if not may_qualify:
            for name in ("is_complaint", "complainant_type", "reason", "product"):
                del self.fields[name]
        self.found_member: Member | None = None

    def clean_received_on(self) -> datetime.date:
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise ValidationError("La date de réception ne peut pas être dans le futur.")
        return day

    def clean_member(self) -> str:
        text = self.cleaned_data["member"].strip()
        if not text:
            return ""
        if must_stay_out_of_urls(text):
            raise ValidationError(
                "Recherchez par numéro d'adhérent ou adresse électronique : ne saisissez ni "
                "numéro de sécurité sociale ni IBAN."
            )
        members = Member.objects.visible_to(self.user).select_related("person")
        if _MEMBER_NUMBER.fullmatch(text.upper()):
            found = list(members.filter(number=text.upper())[:2])
        elif "@" in text:
            found = list(members.filter(person__email__iexact=text)[:2])
        else:
            raise ValidationError(
                "Saisissez un numéro d'adhérent (A suivi de 9 chiffres) ou "
                "une adresse électronique."
            )
        if not found:
            raise ValidationError("Aucun adhérent ne correspond.")
        if len(found) > 1:
            raise ValidationError(
                "Plusieurs adhérents ont cette adresse : saisissez le numéro d'adhérent."
            )
        self.found_member = found[0]
        return text

    def clean(self) -> dict:
        data = super().clean()
        if (
            not self.errors.get("member")
            and not data.get("member")
            and not data.get("contact_name")
        ):
            self.add_error(
                "contact_name",
                "Indiquez le nom de la personne, ou le numéro d'adhérent ci-dessus.",
            )
        if data.get("is_complaint"):
            if not data.get("complainant_type"):
                self.add_error("complainant_type", "Indiquez qui est le réclamant.")
            if not data.get("reason"):
                self.add_error("reason", "Indiquez le motif de la réclamation.")
        return data

    def received_at(self) -> datetime.datetime:
        """Now for today's mail and calls; noon (Paris) for an earlier day of receipt."""
        day = self.cleaned_data["received_on"]
        if day == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))
