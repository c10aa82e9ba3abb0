"""Forms of the requisitions area. People are designated by member number (never a NIR)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.members.models import Member
from mutualis.privacy import catalogue
from mutualis.recipients.models import Organisation, OrganisationKind

_NUMBER = re.compile(r"[A-Z]\d{9}")


class RequisitionForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Autorité",
        queryset=Organisation.objects.filter(kind=OrganisationKind.AUTHORITY, is_active=True),
        help_text="Enregistrez d'abord l'autorité parmi les organismes destinataires.",
    )
    legal_basis = forms.CharField(
        label="Fondement légal",
        max_length=300,
        help_text="Par exemple : C. procédure pénale art. 60-1.",
    )
    reference = forms.CharField(label="Référence de l'autorité", max_length=100)
    received_on = forms.DateField(label="Reçue le", widget=forms.DateInput(attrs={"type": "date"}))
    deadline = forms.DateField(
        label="Délai de réponse", widget=forms.DateInput(attrs={"type": "date"})
    )
    members = forms.CharField(
        label="Personnes visées (numéros d'adhérent)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Un numéro par ligne. Jamais de numéro de sécurité sociale ici.",
    )
    with_beneficiaries = forms.BooleanField(
        label="Inclure les bénéficiaires de leurs contrats", required=False
    )
    categories = forms.MultipleChoiceField(
        label="Catégories de données demandées",
        choices=[(c.code, c.label) for c in catalogue.ALL_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
    )
    forbids_notice = forms.BooleanField(
        label="La réquisition interdit d'informer les personnes", required=False
    )
    secrecy_ground = forms.CharField(label="Texte qui l'interdit", max_length=300, required=False)

    def clean_members(self) -> list:
        text = self.cleaned_data["members"]
        if must_stay_out_of_urls(text):
            raise ValidationError(
                "N'y recopiez aucun numéro de sécurité sociale ni IBAN : les numéros d'adhérent "
                "seulement."
            )
        numbers = [n.strip().upper() for n in text.split() if n.strip()]
        bad = [n for n in numbers if not _NUMBER.fullmatch(n)]
        if bad or not numbers:
            raise ValidationError("Un numéro d'adhérent est une lettre suivie de 9 chiffres.")
        members = list(Member.objects.filter(number__in=numbers).select_related("person"))
        unknown = sorted(set(numbers) - {m.number for m in members})
        if unknown:
            raise ValidationError(f"Numéros inconnus : {', '.join(unknown)}.")
        return members

    def people(self) -> list:
        people = []
        for member in self.cleaned_data["members"]:
            people.append(member.person)
            if self.cleaned_data.get("with_beneficiaries"):
                people += [b.person for b in member.beneficiaries.select_related("person")]
        return people


class DecisionForm(forms.Form):
    reasons = forms.CharField(
        label="Motifs de la décision", widget=forms.Textarea(attrs={"rows": 3}), min_length=10
    )
