"""Forms of the organisations area: an organisation, a new key, a rotation. French labels."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from mutualis.recipients.identifiers import IdentifierType
from mutualis.recipients.models import OrganisationKind, Scope
from mutualis.recipients.services import MAX_OVERLAP, OrganisationData


class OrganisationForm(forms.Form):
    kind = forms.ChoiceField(label="Nature", choices=OrganisationKind.choices)
    name = forms.CharField(label="Nom", max_length=200)
    identifier_type = forms.ChoiceField(
        label="Type d'identifiant",
        choices=IdentifierType.choices,
        help_text="Professionnels de santé : FINESS ou numéro Assurance Maladie ; régimes "
        "obligatoires : code grand régime et caisse ; autorités : SIRET ou aucun.",
    )
    identifier = forms.CharField(label="Identifiant", max_length=20, required=False)
    address = forms.CharField(label="Adresse postale", widget=forms.Textarea, required=False)
    contact_name = forms.CharField(label="Interlocuteur", max_length=150, required=False)
    contact_email = forms.CharField(
        label="Adresse électronique de contact", max_length=254, required=False
    )
    contact_phone = forms.CharField(label="Téléphone de contact", max_length=20, required=False)
    rate_limit = forms.IntegerField(
        label="Limite de requêtes par fenêtre",
        required=False,
        min_value=1,
        max_value=100_000,
        help_text="Vide : la limite commune (MUTUALIS_PARTNER_RATE_LIMIT).",
    )

    def data_object(self) -> OrganisationData:
        return OrganisationData(**self.cleaned_data)

    @classmethod
    def of(cls, organisation, **kwargs) -> OrganisationForm:
        initial = {name: getattr(organisation, name) for name in cls.base_fields}
        return cls(initial=initial, **kwargs)


class KeyForm(forms.Form):
    label = forms.CharField(
        label="Libellé",
        max_length=100,
        required=False,
        help_text="Par exemple : logiciel officine.",
    )
    scopes = forms.MultipleChoiceField(
        label="Droits", choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_on = forms.DateField(
        label="Expire le (facultatif)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError("La date d'expiration doit être dans le futur.")
        return day

    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class RotationForm(forms.Form):
    overlap_days = forms.IntegerField(
        label="Chevauchement (jours)",
        min_value=0,
        max_value=MAX_OVERLAP.days,
        initial=7,
        help_text="L'ancienne clé reste valide ce nombre de jours, le temps de la remplacer.",
    )
