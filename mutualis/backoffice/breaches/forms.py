"""Breach-register forms, in French."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from mutualis.breaches.models import Nature, NotInformGround, Origin, PeopleDecision, Risk
from mutualis.privacy import catalogue

_FORMATS = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y"]


def _moment(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text or "Date et heure, par exemple 14/03/2026 09:30.",
        input_formats=_FORMATS,
        error_messages={
            "required": "Indiquez la date et l'heure.",
            "invalid": "Saisissez une date et une heure valides, par exemple 14/03/2026 09:30.",
        },
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _text(label: str, *, required: bool = True, help_text: str = "", max_length: int = 5000):
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=max_length,
        error_messages={
            "required": "Ce champ est obligatoire.",
            "max_length": f"{max_length} caractères au plus.",
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _count(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=100_000_000,
        help_text="Une estimation suffit ; laissez vide si elle n'est pas encore possible.",
        error_messages={
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": "Ce nombre est trop grand.",
        },
    )


def _choices(label: str, choices, *, required: bool = True) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=required,
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Cochez au moins une case.",
            "invalid_choice": "Choisissez dans la liste proposée.",
        },
    )


class BreachForm(forms.Form):
    title = forms.CharField(
        label="Intitulé",
        max_length=200,
        help_text="Sans nom de personne : les personnes concernées se désignent à part.",
        error_messages={"required": "Donnez un intitulé.", "max_length": "200 caractères au plus."},
    )
    discovered_at = _moment(
        "Prise de connaissance",
        help_text="Le moment où la mutuelle a eu une certitude raisonnable de la violation : il "
        "fait courir le délai de 72 heures. Par exemple 14/03/2026 09:30.",
    )
    started_at = _moment("Début de la violation", required=False)
    ended_at = _moment("Fin de la violation", required=False)
    natures = _choices("Nature", Nature.choices)
    origin = forms.ChoiceField(
        label="Origine", choices=Origin.choices, error_messages={"invalid_choice": "Choisissez."}
    )
    circumstances = _text("Circonstances", help_text="Ce qui s'est passé, sans nom de personne.")
    data_categories = _choices(
        "Catégories de données", [(c.code, c.label) for c in catalogue.ALL_CATEGORIES]
    )
    subject_groups = _choices(
        "Catégories de personnes", [(g.code, g.label) for g in catalogue.ALL_DATA_SUBJECT_GROUPS]
    )
    people_count = _count("Nombre approximatif de personnes concernées")
    records_count = _count("Nombre approximatif d'enregistrements concernés")
    consequences = _text("Conséquences probables pour les personnes")
    measures_taken = _text("Mesures prises pour y remédier et en atténuer les effets")
    measures_planned = _text("Mesures envisagées", required=False)
    risk = forms.ChoiceField(
        label="Risque pour les droits et libertés des personnes",
        choices=Risk.choices,
        error_messages={"invalid_choice": "Choisissez dans la liste proposée."},
    )

    def clean(self):
        data = super().clean()
        for name in (
            "title",
            "circumstances",
            "consequences",
            "measures_taken",
            "measures_planned",
        ):
            if "\x00" in (data.get(name) or ""):
                self.add_error(name, "Ce texte contient un caractère interdit.")
        return data


class NotificationForm(forms.Form):
    sent_at = _moment("Date et heure d'envoi à la CNIL")
    reference = forms.CharField(
        label="Numéro de notification donné par la CNIL",
        max_length=50,
        required=False,
        error_messages={"max_length": "50 caractères au plus."},
    )
    late_reason = _text(
        "Motif du retard",
        required=False,
        help_text="Obligatoire si la notification part plus de 72 heures après la prise de "
        "connaissance (RGPD art. 33(1)).",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sent_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[(c, label) for c, label in PeopleDecision.choices if c != PeopleDecision.PENDING],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez.", "invalid_choice": "Choisissez."},
    )
    ground = forms.ChoiceField(
        label="Cas de l'article 34(3) permettant de ne pas informer",
        choices=[("", "—"), *NotInformGround.choices],
        required=False,
        error_messages={"invalid_choice": "Choisissez dans la liste proposée."},
    )
    note = _text("Justification", required=False, max_length=2000)


class PeopleForm(forms.Form):
    numbers = forms.CharField(
        label="Numéros d'adhérent des personnes concernées",
        help_text="Un par ligne (par exemple A123456789) ; les bénéficiaires de chaque adhérent "
        "sont ajoutés avec lui.",
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        error_messages={
            "required": "Saisissez au moins un numéro d'adhérent.",
            "max_length": "Trop de numéros à la fois : procédez en plusieurs fois.",
        },
    )

    def clean_numbers(self) -> list[str]:
        numbers = [n.strip().upper() for n in self.cleaned_data["numbers"].split()]
        bad = [n for n in numbers if not (len(n) == 10 and n[0] == "A" and n[1:].isdigit())]
        if bad:
            raise forms.ValidationError(
                "Un numéro d'adhérent s'écrit A suivi de 9 chiffres : corrigez les lignes fautives."
            )
        return numbers
