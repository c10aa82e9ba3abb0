"""Staff-administration forms, in French."""

from __future__ import annotations

from django import forms

from mutualis.members import roles


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Service",
        choices=[("", "Choisissez un service"), *roles.ROLE_CHOICES],
        error_messages={
            "required": "Choisissez un service.",
            "invalid_choice": "Choisissez un service de la liste.",
        },
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Adresse électronique professionnelle",
        max_length=254,
        error_messages={
            "required": "Saisissez l'adresse électronique de la personne.",
            "invalid": "Saisissez une adresse électronique valide, par exemple "
            "prenom.nom@mutuelle.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    display_name = forms.CharField(
        label="Prénom et nom",
        max_length=150,
        error_messages={
            "required": "Saisissez le prénom et le nom de la personne.",
            "max_length": "150 caractères au plus.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = _role_field()

    def clean_display_name(self) -> str:
        value = self.cleaned_data["display_name"].strip()
        if any(ord(ch) < 32 for ch in value):
            raise forms.ValidationError("Le nom ne peut pas contenir de caractère de contrôle.")
        return value


class RoleForm(forms.Form):
    role = _role_field()


class FactorResetForm(forms.Form):
    reason = forms.CharField(
        label="Motif de la réinitialisation",
        help_text="Par exemple « téléphone perdu, plus aucun code de secours ». Il est inscrit au "
        "journal et montré à l'administrateur qui approuvera.",
        min_length=5,
        max_length=300,
        error_messages={
            "required": "Indiquez le motif (5 caractères au moins).",
            "min_length": "Indiquez le motif (5 caractères au moins).",
            "max_length": "300 caractères au plus.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
