"""Member search, reveal and contract-beneficiary forms, in French; no field ever echoes a NIR
or an IBAN."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from mutualis.contracts.application import BeneficiaryApplication, Problem
from mutualis.members.models import BeneficiaryRole, Civility
from mutualis.members.services import PersonData
from mutualis.members.validators import mask_nir, normalize_nir

REASON_MIN_LENGTH = 5
REASON_MAX_LENGTH = 500


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


# --- Who a contract covers (staff of the gestion service) ------------------------------------
NUL_REFUSED = "Ce champ contient un caractère non autorisé : retirez-le."
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class SecretInput(forms.TextInput):
    """A text input whose value is never written back into the page (a NIR)."""

    def format_value(self, value: Any) -> None:
        return None


def _name(label: str, *, max_length: int, required: str, too_long: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        error_messages={
            "required": required,
            "max_length": too_long,
            "null_characters_not_allowed": NUL_REFUSED,
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _choice(label: str, choices, message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
    )


class BeneficiaryForm(forms.Form):
    """A new person for a contract to cover. Django checks types and lengths; the rules are the
    subscription's (``contracts.application.check_added_beneficiary``, run by the service), whose
    problems :meth:`add_problems` puts on their fields."""

    role = _choice(
        "Lien avec l'adhérent", BeneficiaryRole.choices, "Choisissez le lien avec l'adhérent."
    )
    civility = _choice("Civilité", Civility.choices, "Choisissez « Madame » ou « Monsieur ».")
    last_name = _name(
        "Nom",
        max_length=100,
        required="Le nom est obligatoire.",
        too_long="Le nom compte 100 caractères au plus.",
    )
    first_names = _name(
        "Prénoms",
        max_length=150,
        required="Le prénom est obligatoire.",
        too_long="Les prénoms comptent 150 caractères au plus.",
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        input_formats=DATE_INPUT_FORMATS,
        help_text="Au format jj/mm/aaaa.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "La date de naissance est obligatoire.",
            "invalid": "Saisissez une date valide, par exemple 14/07/2015.",
        },
    )
    attached = forms.BooleanField(
        label="Rattaché au NIR de l'adhérent",
        required=False,
        help_text="Pour un enfant sans numéro propre : laissez alors le numéro ci-dessous vide.",
    )
    nir = forms.CharField(
        label="Numéro de sécurité sociale",
        required=False,
        max_length=40,
        help_text="15 caractères, clé comprise. Obligatoire sauf pour un enfant rattaché au NIR "
        "de l'adhérent.",
        widget=SecretInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "max_length": "Ce numéro compte trop de caractères : vérifiez-le.",
            "null_characters_not_allowed": NUL_REFUSED,
        },
    )

    # Problem.field (contracts.application) → this form's field; others go on top of the form.
    PROBLEM_FIELDS = {
        f"beneficiary.{name}": name
        for name in ("role", "civility", "last_name", "first_names", "birth_date", "nir")
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def application(self) -> BeneficiaryApplication:
        data = self.cleaned_data
        return BeneficiaryApplication(
            role=data["role"],
            person=PersonData(
                civility=data["civility"],
                last_name=data["last_name"],
                first_names=data["first_names"],
                birth_date=data["birth_date"],
                nir=data["nir"].strip() or None,
            ),
            attached_to_member_nir=data["attached"],
        )

    def add_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            name = self.PROBLEM_FIELDS.get(problem.field, NON_FIELD_ERRORS)
            if name == NON_FIELD_ERRORS or name not in self.errors:
                self.add_error(None if name == NON_FIELD_ERRORS else name, problem.message)

    def describe_typed_nir(self) -> None:
        """After a refusal, the NIR typed is not written back: say so (masked when it has the
        length of a NIR)."""
        typed = (self.data.get("nir") or "") if self.is_bound else ""
        if not typed.strip():
            return
        shown = ""
        if len(typed) <= 40 and "\x00" not in typed and len(normalize_nir(typed)) == 15:
            shown = f"Numéro saisi : {mask_nir(typed)}. "
        self.fields["nir"].help_text = (
            f"{shown}Pour la sécurité des données, le numéro saisi n'est pas réaffiché : "
            "saisissez-le de nouveau."
        )
        self._bound_fields_cache.pop("nir", None)


class RemovalForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je confirme le retrait de cette personne du contrat",
        error_messages={"required": "Cochez la case pour confirmer le retrait du contrat."},
    )
