"""Staff login forms. Labels and messages in French; no field ever echoes a NIR or an IBAN."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from mutualis.members.models import User


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
