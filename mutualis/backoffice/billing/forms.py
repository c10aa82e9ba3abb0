"""Forms of the cotisations service, in French."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone

from mutualis.billing.models import LedgerKind
from mutualis.billing.returns.parse import MAX_BYTES

_DATE = {
    "input_formats": ["%Y-%m-%d", "%d/%m/%Y"],
    "error_messages": {
        "required": "Indiquez la date.",
        "invalid": "Saisissez une date valide, par exemple 14/03/2027.",
    },
    "widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
}


class PaymentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Moyen de paiement",
        choices=[(LedgerKind.CHEQUE, "Chèque"), (LedgerKind.TRANSFER, "Virement")],
        error_messages={"required": "Choisissez le moyen de paiement."},
    )
    amount = forms.DecimalField(
        label="Montant reçu (€)",
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        max_digits=9,
        decimal_places=2,
        localize=True,
        error_messages={
            "required": "Indiquez le montant.",
            "invalid": "Saisissez un montant, par exemple 84,30.",
            "min_value": "Le montant doit être positif.",
            "max_value": "Le montant ne peut dépasser 100 000 €.",
            "max_decimal_places": "Deux chiffres après la virgule au plus.",
            "max_digits": "Montant trop grand.",
            "max_whole_digits": "Montant trop grand.",
        },
    )
    paid_on = forms.DateField(label="Date de réception", **_DATE)
    reference = forms.CharField(
        label="Référence (numéro de chèque, libellé du virement)",
        required=False,
        max_length=64,
        error_messages={"max_length": "64 caractères au plus."},
    )

    def clean_paid_on(self) -> datetime.date:
        day = self.cleaned_data["paid_on"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError("La date de réception ne peut pas être dans le futur.")
        if day < today - datetime.timedelta(days=366):
            raise forms.ValidationError("La date de réception remonte à plus d'un an.")
        return day

    def clean_reference(self) -> str:
        value = " ".join(self.cleaned_data["reference"].split())
        if any(not ch.isprintable() for ch in value):
            raise forms.ValidationError("La référence contient des caractères non imprimables.")
        return value


class PlanForm(forms.Form):
    instalment_count = forms.IntegerField(
        label="Nombre d'échéances",
        min_value=2,
        max_value=12,
        error_messages={
            "required": "Indiquez le nombre d'échéances.",
            "invalid": "Saisissez un nombre entier.",
            "min_value": "Deux échéances au moins.",
            "max_value": "Douze échéances au plus.",
        },
    )
    first_date = forms.DateField(label="Première échéance", **_DATE)

    def clean_first_date(self) -> datetime.date:
        day = self.cleaned_data["first_date"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError("La première échéance ne peut pas être passée.")
        if day > today + datetime.timedelta(days=92):
            raise forms.ValidationError("La première échéance tombe dans les trois mois au plus.")
        return day


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je confirme",
        error_messages={"required": "Cochez la case pour confirmer."},
    )


class PrintRunForm(forms.Form):
    """The newest notice the page showed: a run takes none made after it."""

    made_until = forms.DateTimeField(widget=forms.HiddenInput)


class ReturnsFileForm(forms.Form):
    file = forms.FileField(
        label="Fichier de la banque (pain.002, camt.054 ou CSV)",
        error_messages={
            "required": "Choisissez le fichier à importer.",
            "empty": "Le fichier est vide.",
            "invalid": "Ce n'est pas un fichier.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("Fichier trop volumineux (50 Mo au plus).")
        return upload


class HandleForm(forms.Form):
    note = forms.CharField(
        label="Suite donnée",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "1 000 caractères au plus."},
    )
