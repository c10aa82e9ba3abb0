"""Back-office forms for the steps of a rights request, restrictions and deaths. French labels.

None of them writes anything: views pass their cleaned data to :mod:`mutualis.rights.services`
(and :mod:`mutualis.privacy.restrictions`), which hold the rules. A NIR or an IBAN typed by
mistake in free text is refused, and no typed NIR is ever written back into a page
(:meth:`RightsForm.scrub`). The form that registers a request is in
:mod:`mutualis.backoffice.rights.register_forms`.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from mutualis.audit.services import holds_nir_or_iban
from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.billing.tags import BillingTag
from mutualis.members import validators
from mutualis.members.models import Civility
from mutualis.members.tags import MembersTag
from mutualis.privacy.restrictions import ALL_PURPOSES
from mutualis.rights.deadlines import MAX_EXTENSION_MONTHS
from mutualis.rights.models import IdentityMethod, Outcome, ProofOfDeath
from mutualis.rights.rectification import RECTIFIABLE, is_encrypted, label

NO_SECRETS = (
    "N'y recopiez ni numéro de sécurité sociale ni IBAN : ils sont conservés chiffrés, à leur "
    "place dans le dossier."
)
REQUIRED = "Ce champ est obligatoire."


def purpose_choices(purposes) -> list[tuple[str, str]]:
    return [(p.code, p.title) for p in purposes]


def text_field(label: str, *, required: bool = False, rows: int = 3, max_length: int = 3000, **kw):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": REQUIRED,
            "max_length": f"{max_length} caractères au plus.",
        },
        **kw,
    )


def date_field(label: str, **kw) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": REQUIRED,
            "invalid": "Saisissez une date valide, par exemple 31/01/2026.",
        },
        **kw,
    )


class RightsForm(forms.Form):
    """Free text may not carry a NIR or an IBAN; an invalid form is scrubbed before display."""

    # Fields that may legitimately hold a NIR (a requested new value): checked by their own rule.
    secret_fields: tuple[str, ...] = ()

    def full_clean(self) -> None:
        for field in self.fields.values():
            # Django's default message repeats the value typed, which could be anything.
            if "%(value)s" in str(field.error_messages.get("invalid_choice", "")):
                field.error_messages = {
                    **field.error_messages,
                    "invalid_choice": "Choisissez une valeur de la liste.",
                }
        super().full_clean()

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if name in self.secret_fields or not isinstance(value, str):
                continue
            if holds_nir_or_iban(value):
                self.add_error(name, ValidationError(NO_SECRETS, code="personal_data"))
        return cleaned

    def scrub(self) -> None:
        """Blank every typed value that holds a NIR or an IBAN (never written back)."""
        if not self.is_bound:
            return
        data = self.data.copy()
        for name in self.fields:
            key = self.add_prefix(name)
            values = data.getlist(key) if hasattr(data, "getlist") else [data.get(key, "")]
            if any(must_stay_out_of_urls(str(v)) for v in values):
                data[key] = ""
        self.data = data


# --- Rectification values --------------------------------------------------------------------
def rectification_field(name: str) -> forms.Field:
    if name == "civility":
        field: forms.Field = forms.ChoiceField(
            choices=[("", "— inchangée —"), *Civility.choices], required=False
        )
    elif name == "birth_date":
        field = date_field("", required=False)
    elif name == "email":
        field = forms.EmailField(
            required=False,
            max_length=254,
            error_messages={"invalid": "Saisissez une adresse électronique valide."},
        )
    else:
        field = forms.CharField(required=False, max_length=200)
        field.widget.attrs["autocomplete"] = "off"
    return field


def clean_rectification_value(name: str, value):
    """A requested new value, checked as the member space checks it."""
    if value in (None, ""):
        return ""
    if name == "nir":
        return validators.validate_nir(str(value))
    if name == "postal_code":
        return validators.validate_postal_code(str(value).strip())
    if name in ("phone_landline", "phone_mobile"):
        return validators.validate_phone(str(value).strip())
    return value.strip() if isinstance(value, str) else value


# --- Steps of a request ------------------------------------------------------------------------
class IdentityCheckForm(RightsForm):
    method = forms.ChoiceField(
        label="Moyen de vérification",
        choices=[
            (IdentityMethod.DOCUMENT, "Pièce justificative (non conservée)"),
            (IdentityMethod.OTHER, "Autre moyen raisonnable"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez comment l'identité a été vérifiée."},
    )
    note = text_field("Précisions (facultatif)", max_length=1000)


class AskDocumentForm(RightsForm):
    reason = text_field("Raison du doute sur l'identité", required=True, max_length=1000)


class ExtendForm(RightsForm):
    months = forms.TypedChoiceField(
        label="Prolonger de",
        coerce=int,
        choices=[(n, f"{n} mois") for n in range(MAX_EXTENSION_MONTHS, 0, -1)],
        error_messages={"invalid_choice": "Une prolongation est d'un ou deux mois."},
    )
    reason = text_field(
        "Raisons de la prolongation",
        required=True,
        help_text="Complexité ou nombre des demandes (RGPD art. 12(3)) : elles sont envoyées "
        "à la personne.",
    )


class AnswerForm(RightsForm):
    outcome = forms.ChoiceField(
        label="Issue",
        choices=[
            (Outcome.GRANTED, Outcome.GRANTED.label),
            (Outcome.PARTIAL, Outcome.PARTIAL.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez l'issue."},
    )
    text = text_field("Réponse", required=True, rows=6, max_length=10000)
    reasons = text_field(
        "Motifs de ce qui n'est pas satisfait",
        help_text="Obligatoires pour une demande satisfaite en partie.",
    )


class RefuseForm(RightsForm):
    reasons = text_field(
        "Motifs du refus",
        required=True,
        help_text="Ils sont envoyés à la personne, avec son droit de saisir la CNIL "
        "(RGPD art. 12(4)).",
    )


class AttachPersonForm(RightsForm):
    """The person a request filed without one concerns (member number, e-mail or id)."""

    person_ref = forms.CharField(
        label="Personne concernée : numéro d'adhérent, adresse électronique ou identifiant",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Indiquez la personne concernée."},
    )

    def clean_person_ref(self) -> str:
        from mutualis.backoffice.rights.register_forms import find_person

        text = self.cleaned_data["person_ref"].strip()
        self.person = find_person(text)
        return text


class NoteForm(RightsForm):
    note = text_field("Note", required=True, max_length=3000)


class ObjectionDecisionForm(RightsForm):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            ("upheld", "Opposition admise : le traitement cesse"),
            ("rejected", "Opposition rejetée : motifs légitimes et impérieux"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la décision."},
    )
    grounds = text_field("Motifs de la décision", required=True)

    @property
    def upheld(self) -> bool:
        return self.cleaned_data["decision"] == "upheld"


class RectificationApplyForm(RightsForm):
    """The requested changes, as checked by staff: each box holds the value to apply.

    Requested values of encrypted fields (NIR, birth date) are never written into the page: a
    box "apply the requested value" stands for them, and a value typed over it wins.
    """

    secret_fields = ("nir",)

    def __init__(self, *args, requested: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.requested = requested
        self.hidden_requested: list[str] = []
        for name in RECTIFIABLE:
            field = rectification_field(name)
            field.label = label(name)
            wanted = requested.get(name, "")
            if name in requested and is_encrypted(name):
                self.hidden_requested.append(name)
                field.help_text = "Laissez vide pour appliquer la valeur demandée."
                self.fields[f"use_{name}"] = forms.BooleanField(
                    label=f"{label(name)} : appliquer la valeur demandée ({masked(name, wanted)})",
                    required=False,
                    initial=True,
                )
            elif name in requested:
                field.initial = wanted
                field.help_text = "Valeur demandée."
            self.fields[name] = field

    def rows(self) -> list[dict]:
        rows = []
        for name in RECTIFIABLE:
            rows.append(
                {
                    "field": self[name],
                    "use": self[f"use_{name}"] if f"use_{name}" in self.fields else None,
                    "requested": name in self.requested,
                }
            )
        return rows

    def clean(self) -> dict:
        data = super().clean()
        self.changes = {}
        for name in RECTIFIABLE:
            if name in self.errors:
                continue
            try:
                value = clean_rectification_value(name, data.get(name))
            except ValidationError as error:
                self.add_error(name, error)
                continue
            if value in (None, "") and data.get(f"use_{name}"):
                value = self.requested.get(name, "")
            if value not in (None, ""):
                self.changes[name] = value
        if not self.changes and not self.errors:
            raise ValidationError("Indiquez au moins une donnée à rectifier.")
        return data


def masked(name: str, value) -> str:
    """A requested value of an encrypted field, as the page may show it."""
    if name == "nir":
        return validators.mask_nir(str(value))
    if name == "birth_date" and value:
        return "••/••/" + str(value)[:4]
    return "•••"


# --- Restrictions and deaths -------------------------------------------------------------------
class RestrictionNoticeForm(RightsForm):
    reason = text_field(
        "Pourquoi la limitation va être levée",
        required=True,
        help_text="Envoyé à la personne avant la levée (RGPD art. 18(3)).",
    )


OVERRIDE_USES = [
    (ALL_PURPOSES, "Tout usage nécessaire à cette action en justice"),
    (MembersTag.NIR_REVEAL.value, "Afficher le numéro de sécurité sociale"),
    (BillingTag.IBAN_REVEAL.value, "Afficher l'IBAN"),
]


class OverrideForm(RightsForm):
    """The DPO's exception for legal claims (GDPR art. 18(2))."""

    use = forms.ChoiceField(
        label="Usage autorisé",
        choices=OVERRIDE_USES,
        error_messages={"invalid_choice": "Choisissez un usage de la liste."},
    )
    reason = text_field(
        "Droit en justice en cause",
        required=True,
        max_length=500,
        help_text="Constatation, exercice ou défense d'un droit en justice : précisez lequel.",
    )
    until = date_field(
        "Jusqu'au (facultatif)",
        required=False,
        help_text="Laissez vide pour la durée de la limitation.",
    )

    def clean_until(self) -> datetime.date | None:
        day = self.cleaned_data["until"]
        if day is not None and day < timezone.localdate():
            raise ValidationError("Cette date est passée.")
        return day

    def until_moment(self) -> datetime.datetime | None:
        day = self.cleaned_data["until"]
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


class DeathForm(RightsForm):
    date_of_death = date_field("Date du décès")
    proof_type = forms.ChoiceField(
        label="Justificatif",
        choices=[("", "— choisir —"), *ProofOfDeath.choices],
        error_messages={"required": "Indiquez le justificatif du décès."},
    )
    confirm = forms.BooleanField(
        label="J'ai vérifié le justificatif. Je sais que ses directives seront mises en œuvre, "
        "son compte fermé et ses accords retirés.",
        error_messages={"required": "Cochez la case pour confirmer."},
    )

    def clean_date_of_death(self) -> datetime.date:
        day = self.cleaned_data["date_of_death"]
        if day > timezone.localdate():
            raise ValidationError("La date du décès ne peut pas être dans le futur.")
        if day.year < 1900:
            raise ValidationError("Vérifiez la date du décès.")
        return day
