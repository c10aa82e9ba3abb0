"""The forms of the online subscription, one per step (see ``fields`` for the rules)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from mutualis.consent.models import Channel, Topic
from mutualis.consent.notices import current_notices
from mutualis.contracts import terms
from mutualis.contracts.application import Problem
from mutualis.contracts.models import Offer
from mutualis.members import validators
from mutualis.members.models import BeneficiaryRole
from mutualis.web.subscription import steps
from mutualis.web.subscription.fields import (
    DATE_HELP,
    EMAIL_IN_USE,
    SecretMixin,
    StepForm,
    civility_field,
    compact,
    date_field,
    email_in_use,
    required,
    secret_field,
)


# --- Step 1: identity ------------------------------------------------------------------------
class IdentityForm(SecretMixin, StepForm):
    step = steps.IDENTITY
    pending_key = "identity.nir"
    problem_fields = {
        "member.civility": "civility",
        "member.last_name": "last_name",
        "member.first_names": "first_names",
        "member.birth_date": "birth_date",
        "member.nir": "nir",
    }

    civility = civility_field()
    last_name = forms.CharField(
        label="Nom", max_length=100, error_messages=required("Indiquez votre nom.")
    )
    first_names = forms.CharField(
        label="Prénoms",
        max_length=150,
        error_messages=required("Indiquez votre prénom."),
        help_text="Dans l'ordre de l'état civil.",
    )
    birth_date = date_field("Date de naissance", "Indiquez votre date de naissance.")
    nir = secret_field(
        "Numéro de sécurité sociale",
        max_length=40,
        help_text="15 caractères, inscrits sur votre carte Vitale ou votre attestation de droits.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.describe_stored()

    def stored_secret(self) -> str:
        return self.wizard.pending(self.pending_key) or steps.text_of(
            self.wizard.values(self.step), "nir"
        )

    def payload_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        birth = data.get("birth_date")
        nir = self.secret_value()
        return {
            "civility": data.get("civility", ""),
            "last_name": (data.get("last_name") or "").strip(),
            "first_names": (data.get("first_names") or "").strip(),
            "birth_date": birth.isoformat() if birth else "",
            "nir": validators.normalize_nir(nir) if nir else "",
        }


# --- Step 2: contact details -----------------------------------------------------------------
# The channels offered at subscription (SMS is chosen later, in the member space).
OPT_IN_CHANNELS = (Channel.EMAIL, Channel.POST)


def opt_in_field(topic: str, channel: str) -> str:
    return f"communication_{topic}_{channel}"


class ContactForm(StepForm):
    step = steps.CONTACT
    problem_fields = {
        "member.email": "email",
        "member.address_line1": "address_line1",
        "member.postal_code": "postal_code",
        "member.city": "city",
        "member.phone_landline": "phone_landline",
        "member.phone_mobile": "phone_mobile",
    }

    address_line1 = forms.CharField(
        label="Adresse",
        max_length=200,
        help_text="Numéro et voie, par exemple 12 rue des Lilas.",
        error_messages=required("Indiquez votre adresse."),
    )
    address_line2 = forms.CharField(
        label="Complément d'adresse (facultatif)",
        max_length=200,
        required=False,
        help_text="Bâtiment, étage, lieu-dit…",
    )
    postal_code = forms.CharField(
        label="Code postal",
        max_length=10,
        error_messages=required("Indiquez votre code postal."),
    )
    city = forms.CharField(
        label="Commune", max_length=100, error_messages=required("Indiquez votre commune.")
    )
    email = forms.CharField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="Nous vous y enverrons le lien pour créer le mot de passe de votre espace "
        "adhérent.",
        error_messages=required("Indiquez votre adresse électronique."),
    )
    phone_mobile = forms.CharField(
        label="Téléphone mobile (facultatif)",
        max_length=25,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    phone_landline = forms.CharField(
        label="Téléphone fixe (facultatif)",
        max_length=25,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_opt_ins()
        for name in ("address_line1", "address_line2", "postal_code", "city"):
            self.fields[name].widget.attrs.setdefault(
                "autocomplete",
                {
                    "address_line1": "address-line1",
                    "address_line2": "address-line2",
                    "postal_code": "postal-code",
                    "city": "address-level2",
                }[name],
            )

    def _add_opt_ins(self) -> None:
        """One unticked box per communication and channel (an opt-in: GDPR art. 4(11), 7; CNIL),
        under the notice it agrees to; the boxes ticked before come back ticked."""
        self.notices = current_notices()
        chosen = {
            (c.get("topic"), c.get("channel"))
            for c in self.initial.get("communication") or []
            if isinstance(c, dict)
        }
        for topic in Topic:
            for channel in OPT_IN_CHANNELS:
                self.fields[opt_in_field(topic, channel)] = forms.BooleanField(
                    label=f"{topic.label}, {channel.label.lower()}",
                    required=False,
                    initial=(topic.value, channel.value) in chosen,
                )

    def opt_in_groups(self) -> list[tuple[Any, Any, list]]:
        return [
            (
                topic,
                self.notices[topic.value],
                [self[opt_in_field(topic, channel)] for channel in OPT_IN_CHANNELS],
            )
            for topic in Topic
        ]

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if email and email_in_use(email):
            raise ValidationError(EMAIL_IN_USE)
        return email

    def payload_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "address_line1": (data.get("address_line1") or "").strip(),
            "address_line2": (data.get("address_line2") or "").strip(),
            "postal_code": (data.get("postal_code") or "").strip(),
            "city": (data.get("city") or "").strip(),
            "email": data.get("email") or "",
            "phone_mobile": compact(data.get("phone_mobile") or "", validators.validate_phone),
            "phone_landline": compact(data.get("phone_landline") or "", validators.validate_phone),
            "communication": [
                {"topic": topic.value, "channel": channel.value, "notice": notice.pk}
                for topic, notice, _ in self.opt_in_groups()
                for channel in OPT_IN_CHANNELS
                if data.get(opt_in_field(topic, channel))
            ],
        }


# --- Step 3: mandatory scheme ----------------------------------------------------------------
class SchemeForm(StepForm):
    step = steps.SCHEME
    _scheme_errors = {
        "scheme_regime": "regime",
        "scheme_caisse": "caisse",
        "scheme_centre": "centre",
    }

    regime = forms.CharField(
        label="Code grand régime",
        max_length=10,
        help_text="2 chiffres : 01 pour le régime général, 02 pour la MSA…",
        error_messages=required("Indiquez le code grand régime (2 chiffres)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    caisse = forms.CharField(
        label="Code caisse",
        max_length=10,
        help_text="3 chiffres.",
        error_messages=required("Indiquez le code caisse (3 chiffres)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    centre = forms.CharField(
        label="Code centre",
        max_length=10,
        help_text="4 chiffres.",
        error_messages=required("Indiquez le code centre (4 chiffres)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    organisation = forms.CharField(
        label="Organisme de rattachement (facultatif)",
        max_length=150,
        required=False,
        help_text="Par exemple CPAM de Paris, MSA Île-de-France.",
    )

    def field_for_problem(self, problem: Problem) -> str | None:
        if problem.field != "member.scheme":
            return None
        data = self.cleaned_data
        try:
            validators.validate_scheme_code(
                data.get("regime", ""), data.get("caisse", ""), data.get("centre", "")
            )
        except ValidationError as exc:
            return self._scheme_errors.get(exc.code or "", "regime")
        return "regime"

    def payload_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: (data.get(name) or "").strip() for name in self.fields}


# --- Step 4: beneficiaries (one at a time) ---------------------------------------------------
class BeneficiaryForm(SecretMixin, StepForm):
    """Add or change one beneficiary; ``index`` is its 0-based place in the list, or None."""

    step = steps.BENEFICIARIES
    form_problems = ("beneficiaries",)

    role = forms.ChoiceField(
        label="Lien avec vous",
        choices=BeneficiaryRole.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le lien avec vous.",
            "invalid_choice": "Choisissez le lien avec vous.",
        },
    )
    civility = civility_field()
    last_name = forms.CharField(
        label="Nom", max_length=100, error_messages=required("Indiquez son nom.")
    )
    first_names = forms.CharField(
        label="Prénoms", max_length=150, error_messages=required("Indiquez son prénom.")
    )
    birth_date = date_field("Date de naissance", "Indiquez sa date de naissance.")
    attached = forms.BooleanField(
        label="Cet enfant est rattaché à mon numéro de sécurité sociale",
        required=False,
        help_text="Il n'a pas de numéro propre : laissez alors le numéro ci-dessous vide.",
    )
    nir = secret_field(
        "Son numéro de sécurité sociale",
        max_length=40,
        help_text="15 caractères. Obligatoire sauf pour un enfant rattaché à votre numéro.",
    )

    def __init__(self, *args: Any, index: int | None = None, **kwargs: Any) -> None:
        self.index = index
        super().__init__(*args, **kwargs)
        self.pending_key = f"beneficiaries.{'new' if index is None else index}.nir"
        number = (len(self.wizard.beneficiaries) if index is None else index) + 1
        prefix = f"beneficiaries[{number}]"
        self.problem_fields = {
            f"{prefix}.{name}": name
            for name in ("role", "civility", "last_name", "first_names", "birth_date", "nir")
        }
        self.describe_stored()

    def stored_secret(self) -> str:
        pending = self.wizard.pending(self.pending_key)
        if pending:
            return pending
        if self.index is not None and self.index < len(self.wizard.beneficiaries):
            return steps.text_of(self.wizard.beneficiaries[self.index], "nir")
        return ""

    def beneficiary_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        birth = data.get("birth_date")
        attached = bool(data.get("attached"))
        typed = (data.get("nir") or "").strip()
        # A child attached to the member's NIR has none of their own: a number kept from an
        # earlier entry is dropped, one typed now is checked (and refused) by the rules.
        nir = typed if attached else self.secret_value()
        return {
            "role": data.get("role", ""),
            "civility": data.get("civility", ""),
            "last_name": (data.get("last_name") or "").strip(),
            "first_names": (data.get("first_names") or "").strip(),
            "birth_date": birth.isoformat() if birth else "",
            "attached": attached,
            "nir": validators.normalize_nir(nir) if nir else "",
        }

    def payload_values(self) -> list[dict[str, Any]]:
        items = list(self.wizard.beneficiaries)
        values = self.beneficiary_values()
        if self.index is None or self.index >= len(items):
            items.append(values)
        else:
            items[self.index] = values
        return items


# --- Step 5: payment (SEPA mandate) ----------------------------------------------------------
class PaymentForm(SecretMixin, StepForm):
    step = steps.PAYMENT
    sensitive_field = "iban"
    pending_key = "payment.iban"
    masked_label = "IBAN"
    secret_mask = staticmethod(validators.mask_iban)
    problem_fields = {
        "payment.iban": "iban",
        "payment.bic": "bic",
        "payment.debtor_name": "debtor_name",
        "payment.signed_place": "signed_place",
    }

    debtor_name = forms.CharField(
        label="Titulaire du compte",
        max_length=140,
        help_text="Nom et prénom, tels qu'ils figurent sur votre relevé d'identité bancaire.",
        error_messages=required("Indiquez le titulaire du compte."),
    )
    iban = secret_field(
        "IBAN",
        max_length=50,
        help_text="Sur votre relevé d'identité bancaire, par exemple FR76 3000 6000 0112 3456 "
        "7890 189.",
    )
    bic = forms.CharField(
        label="BIC (facultatif)",
        max_length=20,
        required=False,
        help_text="8 ou 11 caractères, par exemple BNPAFRPP.",
    )
    signed_place = forms.CharField(
        label="Lieu de signature",
        max_length=100,
        help_text="La commune où vous vous trouvez.",
        error_messages=required("Indiquez le lieu de signature."),
    )
    mandate = forms.BooleanField(
        label="J'autorise la mutuelle à prélever mes cotisations sur ce compte, selon le mandat "
        "ci-dessus.",
        error_messages=required(
            "Cochez la case pour signer électroniquement le mandat de prélèvement SEPA."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.describe_stored()

    def stored_secret(self) -> str:
        return self.wizard.pending(self.pending_key) or steps.text_of(
            self.wizard.values(self.step), "iban"
        )

    def clean_iban(self) -> str:
        iban = (self.cleaned_data.get("iban") or "").strip()
        if not iban and not self.stored_secret():
            raise ValidationError("Indiquez l'IBAN du compte à prélever.")
        return iban

    def payload_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        iban = self.secret_value()
        bic = (data.get("bic") or "").strip()
        return {
            "debtor_name": (data.get("debtor_name") or "").strip(),
            "iban": compact(iban, validators.validate_iban) if iban else "",
            "bic": compact(bic, validators.validate_bic) if bic else "",
            "signed_place": (data.get("signed_place") or "").strip(),
            "mandate_signed_at": timezone.now().isoformat(),
        }


def mandate_text() -> dict[str, str]:
    """The creditor's name and SEPA creditor identifier (ICS) shown in the mandate."""
    return {
        "creditor_name": settings.MUTUALIS_ORGANISATION["name"],
        "creditor_address": settings.MUTUALIS_ORGANISATION["address"],
        "creditor_identifier": settings.MUTUALIS_SEPA_CREDITOR_ID,
    }


# --- Step 6: offer and start date ------------------------------------------------------------
def first_day_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


class OfferForm(StepForm):
    step = steps.OFFER
    problem_fields = {"offer": "offer", "start_date": "start_date"}

    offer = forms.ChoiceField(
        label="Formule",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez une formule.",
            "invalid_choice": "Choisissez une formule proposée.",
        },
    )
    start_date = date_field("Date d'effet souhaitée", "Indiquez la date d'effet souhaitée.")

    def __init__(self, *args: Any, offers: list[Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].choices = [(o.code, o.name) for o in offers]
        self.fields["start_date"].help_text = (
            "Au plus tôt aujourd'hui, au plus tard dans 180 jours. " + DATE_HELP
        )

    def payload_values(self) -> dict[str, Any]:
        start = self.cleaned_data.get("start_date")
        return {
            "offer_code": self.cleaned_data.get("offer", ""),
            "start_date": start.isoformat() if start else "",
        }


# --- Step 7: terms and privacy policy --------------------------------------------------------
class AcceptanceForm(StepForm):
    step = steps.ACCEPTANCE
    problem_fields = {"acceptance.cgu": "accept_cgu", "acceptance.policy": "accept_policy"}

    accept_cgu = forms.BooleanField(
        label="J'ai lu et j'accepte les conditions générales d'utilisation de l'espace adhérent.",
        error_messages=required("Acceptez les conditions générales d'utilisation."),
    )
    accept_policy = forms.BooleanField(
        label="J'ai pris connaissance de la politique de confidentialité.",
        error_messages=required(
            "Indiquez avoir pris connaissance de la politique de confidentialité."
        ),
    )

    def __init__(self, *args: Any, policy_version_id: int | None, **kwargs: Any) -> None:
        self.policy_version_id = policy_version_id
        super().__init__(*args, **kwargs)

    def payload_values(self) -> dict[str, Any]:
        accepted = bool(self.cleaned_data.get("accept_cgu")) and bool(
            self.cleaned_data.get("accept_policy")
        )
        cgu = terms.current_cgu()
        return {
            "cgu_version": cgu.slug if accepted and cgu else "",
            "policy_version_id": self.policy_version_id if accepted else None,
            "accepted_at": timezone.now().isoformat() if accepted else "",
        }
