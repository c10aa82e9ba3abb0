"""Filters of the disclosure register (read by GET: a person is named by id or member number,
never by NIR)."""

from __future__ import annotations

from django import forms

from mutualis.backoffice.privacy.forms import AuditFilterForm
from mutualis.privacy import catalogue
from mutualis.recipients.models import Organisation


class DisclosureFilterForm(AuditFilterForm):
    nature = None  # the audit log's filter by tag: not here
    destinataire = forms.ChoiceField(
        label="Destinataire",
        required=False,
        choices=[("", "tous")] + [(r.code, r.label) for r in catalogue.ALL_RECIPIENTS],
    )
    organisme = forms.ModelChoiceField(
        label="Organisme",
        required=False,
        queryset=Organisation.objects.order_by("name"),
        empty_label="tous",
    )
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    field_order = ["destinataire", "organisme", "personne", "du", "au"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("du") and cleaned.get("au") and cleaned["du"] > cleaned["au"]:
            raise forms.ValidationError("La période commence après sa fin.")
        return cleaned

    def filters(self) -> dict | None:
        """The register's filters; None when the form is invalid (then nothing is listed). A
        NIR typed by mistake is refused and not written back into the page."""
        if not self.is_bound:
            return {}
        valid = self.is_valid()
        self.scrub()
        if not valid:
            return None
        data = self.cleaned_data
        return {
            "recipient": data.get("destinataire") or "",
            "organisation": data.get("organisme"),
            "subject_id": data.get("personne") or "",
            "since": data.get("du"),
            "until": data.get("au"),
        }
