"""Member search and reveal forms, in French; no field ever echoes a NIR or an IBAN."""

from __future__ import annotations

from django import forms

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
