"""Back-office forms. Labels and messages in French; no field ever echoes a NIR or an IBAN."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from mutualis.members.models import User

REASON_MIN_LENGTH = 5
REASON_MAX_LENGTH = 500


class StaffLoginForm(AuthenticationForm):
    """E-mail and password; django-axes counts the failures and locks (settings.AXES_*)."""

    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
        "not_staff": "Ce compte est un compte d'adhérent : connectez-vous depuis l'espace "
        "adhérent.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Adresse électronique professionnelle"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True}
        )
        self.fields["password"].label = "Mot de passe"

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff_account:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="Code à 6 chiffres affiché par votre application d'authentification",
        regex=r"^\s*\d{6}\s*$",
        strip=True,
        error_messages={
            "required": "Saisissez le code à 6 chiffres.",
            "invalid": "Le code compte 6 chiffres.",
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "maxlength": "6",
                "autofocus": True,
            }
        ),
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Nom, numéro d'adhérent, adresse électronique ou numéro de sécurité sociale",
        min_length=2,
        max_length=100,
        strip=True,
        error_messages={
            "required": "Saisissez ce que vous cherchez.",
            "min_length": "Saisissez au moins 2 caractères.",
            "max_length": "Saisissez 100 caractères au plus.",
        },
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="Motif de la consultation",
        help_text="Obligatoire : il est inscrit au journal d'audit. N'y recopiez aucun numéro "
        "de sécurité sociale ni aucun IBAN.",
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": "Indiquez le motif de la consultation (5 caractères au moins).",
            "min_length": "Indiquez le motif de la consultation (5 caractères au moins).",
            "max_length": "Le motif compte 500 caractères au plus.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
