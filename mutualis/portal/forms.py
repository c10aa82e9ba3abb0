"""Forms of the member space, with French labels and messages.

None of them takes the id of a person, member or contract from the client: the member is always
the one whose account is logged in (see ``access.py``).
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from mutualis.members import validators
from mutualis.members.models import Person, User, UserKind
from mutualis.members.services import CONTACT_FIELDS


class NoLabelSuffix:
    """Labels read exactly as written (no trailing " :"), for screen readers and tests alike."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


INVALID_LOGIN = (
    "Adresse électronique ou mot de passe incorrect. Vérifiez votre saisie ; après plusieurs "
    "essais infructueux, l'accès est suspendu pendant quelques minutes."
)


class LoginForm(NoLabelSuffix, auth_forms.AuthenticationForm):
    """E-mail and password. Only member accounts may enter the member space.

    A staff account gets exactly the message of a wrong password: the page never tells whether
    an address or a password belongs to a staff member.
    """

    username = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": INVALID_LOGIN,
        "inactive": INVALID_LOGIN,
        "not_member": INVALID_LOGIN,
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.kind != UserKind.MEMBER:
            raise ValidationError(self.error_messages["not_member"], code="not_member")


class NewPasswordForm(NoLabelSuffix, auth_forms.SetPasswordForm):
    """Choose a password (activation or reset); the password validators of settings apply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        new1, new2 = self.fields["new_password1"], self.fields["new_password2"]
        new1.label = "Nouveau mot de passe"
        new1.help_text = (
            "Au moins 12 caractères ; évitez un mot de passe courant, uniquement composé de "
            "chiffres ou proche de votre adresse électronique."
        )
        new2.label = "Confirmation du nouveau mot de passe"
        new2.help_text = "Saisissez le même mot de passe une seconde fois."
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": "Les deux mots de passe saisis ne sont pas identiques.",
        }


class MemberPasswordResetForm(NoLabelSuffix, auth_forms.PasswordResetForm):
    """Ask for a link by e-mail. The answer is the same whether the address is known or not.

    Unlike Django's form, an account that has no password yet (the member never used their
    activation link, or it expired) gets a link too: that is how a new activation link is asked
    for. Staff accounts are managed in the back office and get nothing here.
    """

    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email: str):
        email_field = User.get_email_field_name()
        accounts = User._default_manager.filter(
            **{f"{email_field}__iexact": email}, is_active=True, kind=UserKind.MEMBER
        )
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return (
            account
            for account in accounts
            if unicodedata.normalize("NFKC", getattr(account, email_field)).casefold() == wanted
        )


def _phone_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=20,
        help_text="Par exemple 01 23 45 67 89 ou +33 1 23 45 67 89.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class ContactDetailsForm(NoLabelSuffix, forms.Form):
    """The member's own contact details (GDPR art. 16), checked by ``members.validators``."""

    address_line1 = forms.CharField(
        label="Adresse",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Complément d'adresse (facultatif)",
        max_length=200,
        required=False,
        help_text="Bâtiment, étage, lieu-dit…",
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label="Code postal",
        max_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(
        label="Commune",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        help_text="C'est aussi votre identifiant de connexion à l'espace adhérent.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone_landline = _phone_field("Téléphone fixe (facultatif)")
    phone_mobile = _phone_field("Téléphone mobile (facultatif)")

    def __init__(self, *args, account: User, person: Person, **kwargs):
        current = {name: getattr(person, name) for name in CONTACT_FIELDS}
        current["phone_landline"] = validators.format_phone(person.phone_landline)
        current["phone_mobile"] = validators.format_phone(person.phone_mobile)
        kwargs["initial"] = {**current, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.account = account
        for field in self.fields.values():
            field.error_messages.setdefault("required", "Ce champ est obligatoire.")
        self.fields["email"].error_messages["invalid"] = (
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."
        )

    def clean_postal_code(self) -> str:
        return validators.validate_postal_code(self.cleaned_data["postal_code"])

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.account.pk).exists():
            raise ValidationError(
                "Cette adresse électronique est déjà utilisée pour un autre compte. Comme elle "
                "sert d'identifiant de connexion, choisissez-en une autre.",
                code="email_taken",
            )
        return email

    def _clean_phone(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        return validators.validate_phone(value) if value else ""

    def clean_phone_landline(self) -> str:
        return self._clean_phone("phone_landline")

    def clean_phone_mobile(self) -> str:
        return self._clean_phone("phone_mobile")

    def changes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name].strip() for name in CONTACT_FIELDS}


class BankAccountForm(NoLabelSuffix, forms.Form):
    """A new account for the premiums: a new electronic SEPA mandate (SDD Core)."""

    iban = forms.CharField(
        label="IBAN",
        max_length=50,
        help_text="Tel qu'il figure sur votre relevé d'identité bancaire (RIB), "
        "par exemple FR76 3000 6000 0112 3456 7890 189.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label="BIC (facultatif)",
        max_length=15,
        required=False,
        help_text="8 ou 11 caractères, par exemple BNPAFRPP.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    debtor_name = forms.CharField(
        label="Titulaire du compte",
        max_length=140,
        help_text="Nom et prénom du titulaire, tels qu'ils figurent sur le RIB.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    signed_place = forms.CharField(
        label="Lieu de signature",
        max_length=100,
        help_text="La commune où vous vous trouvez, par exemple Paris.",
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    accept_mandate = forms.BooleanField(
        label="J'ai lu le mandat de prélèvement SEPA ci-dessus et je l'accepte.",
        error_messages={
            "required": "Pour changer de compte, vous devez accepter le nouveau mandat de "
            "prélèvement SEPA."
        },
    )

    def __init__(self, *args, current_iban: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_iban = current_iban
        for name, field in self.fields.items():
            if name != "accept_mandate":
                field.error_messages["required"] = "Ce champ est obligatoire."

    def clean_iban(self) -> str:
        iban = validators.validate_iban(self.cleaned_data["iban"])
        if self.current_iban and iban == self.current_iban:
            raise ValidationError(
                "Ce compte est déjà celui de votre mandat en cours : aucun changement à faire.",
                code="iban_unchanged",
            )
        return iban

    def clean_bic(self) -> str:
        bic = self.cleaned_data["bic"].strip()
        return validators.validate_bic(bic) if bic else ""


def creditor() -> dict[str, str]:
    """Who the member authorises to debit their account (the mandate's creditor)."""
    organisation = settings.MUTUALIS_ORGANISATION
    return {
        "name": organisation["name"],
        "address": organisation["address"],
        "identifier": settings.MUTUALIS_SEPA_CREDITOR_ID,
    }
