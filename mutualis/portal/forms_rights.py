"""Forms of the member space's "Mes droits" pages, in French.

Like every member-space form, none takes the id of a person or a request from the client: the
request is always about the member whose account is logged in.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from mutualis.members import validators
from mutualis.members.models import Civility, Person, User
from mutualis.portal.forms import NoLabelSuffix
from mutualis.privacy import catalogue
from mutualis.rights.models import DirectiveScope
from mutualis.rights.objection import OBJECTABLE
from mutualis.rights.rectification import RECTIFIABLE, label

REQUIRED = "Ce champ est obligatoire."
ALL = "*"


class ConfirmForm(NoLabelSuffix, forms.Form):
    """A one-click request: a button, nothing to fill in."""


class RectificationForm(NoLabelSuffix, forms.Form):
    """Each rectifiable datum with an empty box: the member fills in only what is wrong."""

    comment = forms.CharField(
        label="Précisions (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pour un changement d'état civil ou de numéro de sécurité sociale, nous "
        "pourrons vous demander un justificatif.",
    )

    def __init__(self, *args, person: Person, account: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.person, self.account = person, account
        fields = {}
        for name in RECTIFIABLE:
            text = label(name)
            if name == "civility":
                field = forms.ChoiceField(
                    choices=[("", "— inchangée —"), *Civility.choices], required=False
                )
            elif name == "birth_date":
                field = forms.DateField(
                    required=False, widget=forms.DateInput(attrs={"type": "date"})
                )
            elif name == "email":
                field = forms.EmailField(required=False, max_length=254)
            else:
                field = forms.CharField(required=False, max_length=200)
            field.label = f"{text} (nouvelle valeur)"
            field.help_text = f"Actuellement : {self._current(name)}"
            fields[name] = field
        self.fields = {**fields, "comment": self.fields["comment"]}

    def _current(self, name: str) -> str:
        if name == "nir":
            return self.person.masked_nir
        if name == "birth_date":
            return "•• / •• / ••••"  # never echoed: the member knows it
        value = getattr(self.person, name)
        if name == "civility":
            return self.person.get_civility_display()
        if name.startswith("phone_"):
            value = validators.format_phone(value)
        return value or "non renseigné"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.account.pk).exists():
            raise ValidationError(
                "Cette adresse électronique est déjà utilisée pour un autre compte."
            )
        return email

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        return validators.validate_postal_code(value) if value else ""

    def clean_phone_landline(self) -> str:
        value = self.cleaned_data["phone_landline"].strip()
        return validators.validate_phone(value) if value else ""

    def clean_phone_mobile(self) -> str:
        value = self.cleaned_data["phone_mobile"].strip()
        return validators.validate_phone(value) if value else ""

    def clean_nir(self) -> str:
        value = self.cleaned_data["nir"].strip()
        return validators.validate_nir(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        if not self.changes() and not self.errors:
            raise ValidationError("Indiquez au moins une donnée à rectifier et sa nouvelle valeur.")
        return cleaned

    def changes(self) -> dict:
        return {
            name: value
            for name in RECTIFIABLE
            if (value := self.cleaned_data.get(name)) not in (None, "")
        }


class ErasureForm(NoLabelSuffix, forms.Form):
    confirm = forms.BooleanField(
        label="J'ai lu ce qui sera effacé et ce qui sera conservé, et je demande l'effacement "
        "de mes données.",
        error_messages={"required": "Cochez la case pour confirmer votre demande."},
    )


def _purpose_choices(purposes) -> list[tuple[str, str]]:
    return [(p.code, f"{p.title} ({p.legal_basis_detail})") for p in purposes]


class ObjectionForm(NoLabelSuffix, forms.Form):
    purposes = forms.MultipleChoiceField(
        label="Traitements auxquels vous vous opposez",
        choices=_purpose_choices(OBJECTABLE),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un traitement."},
    )
    grounds = forms.CharField(
        label="Raisons tenant à votre situation particulière",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Expliquez vos raisons : notre délégué les examinera."},
    )


RESTRICTION_GROUNDS = [
    ("accuracy", "Je conteste l'exactitude de mes données, le temps de leur vérification"),
    ("unlawful", "Le traitement est illicite mais je préfère la limitation à l'effacement"),
    (
        "claims",
        "J'en ai besoin pour la constatation, l'exercice ou la défense de droits en justice",
    ),
    ("objection", "Je me suis opposé au traitement, le temps d'examiner mon opposition"),
]


class RestrictionForm(NoLabelSuffix, forms.Form):
    scope = forms.MultipleChoiceField(
        label="Usages à limiter",
        choices=[
            (ALL, "Tous les usages de mes données"),
            *_purpose_choices(catalogue.ALL_PURPOSES),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un usage, ou tous."},
    )
    ground = forms.ChoiceField(
        label="Motif (RGPD art. 18(1))",
        choices=RESTRICTION_GROUNDS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif de votre demande."},
    )
    reason = forms.CharField(
        label="Précisions (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def details(self) -> dict:
        scope = self.cleaned_data["scope"]
        ground = dict(RESTRICTION_GROUNDS)[self.cleaned_data["ground"]]
        reason = self.cleaned_data["reason"].strip()
        return {
            "purposes": [ALL] if ALL in scope else scope,
            "ground": self.cleaned_data["ground"],
            "reason": f"{ground}. {reason}".strip(),
        }


class DirectiveForm(NoLabelSuffix, forms.Form):
    scope = forms.ChoiceField(
        label="Portée de vos directives",
        choices=DirectiveScope.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la portée de vos directives."},
    )
    instructions = forms.CharField(
        label="Vos directives",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Par exemple : effacer mes données, les communiquer à une personne, clore mon "
        "espace adhérent…",
        error_messages={"required": "Écrivez vos directives."},
    )
    designated_name = forms.CharField(
        label="Personne chargée de leur exécution (facultatif)",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    designated_email = forms.EmailField(
        label="Son adresse électronique (facultatif)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("designated_email") and not cleaned.get("designated_name"):
            self.add_error("designated_name", "Indiquez le nom de la personne désignée.")
        return cleaned

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}
