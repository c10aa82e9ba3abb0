"""Forms of the requisitions area. People are designated by member number, a beneficiary by
their member's number and their birth date (never a NIR)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.members.models import Beneficiary, Member
from mutualis.privacy import catalogue
from mutualis.recipients.models import Organisation, OrganisationKind
from mutualis.recipients.requisition_scope import designate
from mutualis.recipients.services import RecipientsError


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
        label="Personnes visées",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Une personne par ligne : le numéro d'adhérent ; pour un bénéficiaire de ses "
        "contrats, le numéro de l'adhérent suivi de la date de naissance du bénéficiaire "
        "(JJ/MM/AAAA) et, pour des jumeaux, de son prénom. Jamais de numéro de sécurité sociale "
        "ici.",
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
                "et les dates de naissance seulement."
            )
        try:
            return designate(text)
        except RecipientsError as error:
            raise ValidationError(str(error)) from None

    def people(self) -> list:
        """The people named, then (when asked) every beneficiary of the members named."""
        people = list(self.cleaned_data["members"])
        if self.cleaned_data.get("with_beneficiaries"):
            members = Member.objects.filter(person__in=people)
            people += [
                b.person
                for b in Beneficiary.objects.filter(member__in=members).select_related("person")
            ]
        return list({person.pk: person for person in people}.values())


class DecisionForm(forms.Form):
    reasons = forms.CharField(
        label="Motifs de la décision", widget=forms.Textarea(attrs={"rows": 3}), min_length=10
    )
