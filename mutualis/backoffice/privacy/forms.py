"""Forms of the DPO's privacy pages: retention simulation, legal holds, audit log filters.

Labels and messages in French. A NIR or an IBAN typed by mistake is refused and never written
back into the page (never in a URL, a log or a page).
"""

from __future__ import annotations

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from mutualis.audit.tags import Tag
from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.lib.dates import add_months
from mutualis.members.models import Member
from mutualis.privacy import retention
from mutualis.privacy.models import LegalHold

REASON_MIN_LENGTH = 5
REASON_MAX_LENGTH = LegalHold._meta.get_field("reason").max_length
SIMULATION_MAX_YEARS = 10
NO_NIR_OR_IBAN = (
    "N'y recopiez aucun numéro de sécurité sociale ni aucun IBAN : désignez la personne par "
    "son numéro d'adhérent ou son identifiant."
)
_MEMBER_NUMBER = re.compile(r"A\d{9}")
_SUBJECT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # as the audit log stores it
_TAG_PREFIX = re.compile(r"[a-z0-9_:]{1,100}")


def model_name(model: type[models.Model]) -> str:
    """The model as the back office names it: its French verbose name."""
    return capfirst(str(model._meta.verbose_name))


def holdable_targets() -> dict[str, retention.Target]:
    """The declared models a legal hold can protect, by ``app_label.model``.

    Only targets the engine filters through legal holds qualify; tables ended by a handler of
    their own (the audit log, online drafts) do not read holds, so a hold there would mislead.
    """
    return {
        t.model._meta.label_lower: t
        for t in retention.targets()
        if not t.declaration.retention_handler
    }


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label="Motif du gel",
        help_text="Obligatoire (contentieux, demande d'une autorité…) : il est conservé avec le "
        "gel et sa pose est inscrite au journal d'audit. N'y recopiez aucun numéro de sécurité "
        "sociale ni aucun IBAN.",
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": "Indiquez le motif du gel (5 caractères au moins).",
            "min_length": "Indiquez le motif du gel (5 caractères au moins).",
            "max_length": f"Le motif compte {REASON_MAX_LENGTH} caractères au plus.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class _HoldForm(forms.Form):
    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        if must_stay_out_of_urls(reason):
            raise ValidationError(NO_NIR_OR_IBAN, code="personal_data")
        return reason

    def scrub(self) -> None:
        """Blank every typed value that holds a NIR or an IBAN before the form is shown again."""
        if not self.is_bound:
            return
        data = self.data.copy()
        for name in self.fields:
            key = self.add_prefix(name)
            if must_stay_out_of_urls(str(data.get(key, ""))):
                data[key] = ""
        self.data = data


class PersonHoldForm(_HoldForm):
    """A hold on a member's person: every record of theirs keeps its current stage."""

    member_number = forms.CharField(
        label="Numéro d'adhérent",
        help_text="Par exemple A012345678.",
        max_length=20,
        strip=True,
        error_messages={"required": "Saisissez le numéro d'adhérent."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = _reason_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.person_id = None  # set by a valid member number

    def clean_member_number(self) -> str:
        number = "".join(self.cleaned_data["member_number"].split()).upper()
        if must_stay_out_of_urls(number):
            raise ValidationError(NO_NIR_OR_IBAN, code="personal_data")
        if not _MEMBER_NUMBER.fullmatch(number):
            raise ValidationError(
                "Un numéro d'adhérent s'écrit A suivi de 9 chiffres.", code="invalid"
            )
        member = Member.objects.filter(number=number).only("pk", "person_id").first()
        if member is None:
            raise ValidationError("Aucun adhérent ne porte ce numéro.", code="unknown")
        if LegalHold.objects.active().filter(subject_id=str(member.person_id)).exists():
            raise ValidationError(
                "Cet adhérent fait déjà l'objet d'un gel en cours.", code="already_held"
            )
        self.person_id = member.person_id
        return number


class RecordHoldForm(_HoldForm):
    """A hold on one record of a declared model with a retention rule."""

    model = forms.ChoiceField(
        label="Type d'enregistrement",
        error_messages={
            "required": "Choisissez le type d'enregistrement.",
            "invalid_choice": "Ce type d'enregistrement n'a pas de règle de conservation.",
        },
    )
    record_id = forms.CharField(
        label="Identifiant de l'enregistrement",
        help_text="Tel qu'il apparaît dans les listes de la gestion interne ou dans un "
        "manquement signalé.",
        max_length=64,
        strip=True,
        error_messages={"required": "Saisissez l'identifiant de l'enregistrement."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = _reason_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.targets = holdable_targets()
        choices = sorted(
            ((label, model_name(t.model)) for label, t in self.targets.items()),
            key=lambda choice: choice[1],
        )
        self.fields["model"].choices = [("", "— choisir —"), *choices]
        self.record = None

    def clean(self) -> dict:
        cleaned = super().clean()
        target = self.targets.get(cleaned.get("model", ""))
        record_id = cleaned.get("record_id")
        if target is None or not record_id:
            return cleaned
        if must_stay_out_of_urls(record_id):
            self.add_error("record_id", ValidationError(NO_NIR_OR_IBAN, code="personal_data"))
            return cleaned
        pk_field = target.model._meta.pk
        try:
            pk = pk_field.to_python(record_id)
        except ValidationError:
            pk = None
        # The base manager: an archived record can (and often must) be held too.
        record = target.model._base_manager.filter(pk=pk).first() if pk is not None else None
        if record is None:
            self.add_error(
                "record_id",
                ValidationError(
                    f"Aucun enregistrement « {model_name(target.model)} » ne porte cet "
                    "identifiant.",
                    code="unknown",
                ),
            )
            return cleaned
        label = f"{target.model._meta.label_lower}:{record.pk}"
        if LegalHold.objects.active().filter(target=label).exists():
            self.add_error(
                "record_id",
                ValidationError("Cet enregistrement fait déjà l'objet d'un gel en cours."),
            )
            return cleaned
        self.record = record
        return cleaned


class SimulationForm(forms.Form):
    """The date the dry-run is computed for (today by default): what will be due then."""

    au = forms.DateField(
        label="Simuler à la date du",
        help_text="Laissez vide pour aujourd'hui. Format JJ/MM/AAAA.",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "Saisissez une date valide, par exemple 31/12/2027."},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_au(self) -> datetime.date | None:
        day = self.cleaned_data["au"]
        today = timezone.localdate()
        if day is not None and not today <= day <= add_months(today, 12 * SIMULATION_MAX_YEARS):
            raise ValidationError(
                f"Choisissez une date entre aujourd'hui et dans {SIMULATION_MAX_YEARS} ans."
            )
        return day

    def moment(self) -> datetime.datetime:
        """The chosen day at noon (as ``enforce_retention --as-of``), or now."""
        day = self.cleaned_data.get("au") if self.is_valid() else None
        if day is None or day == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def known_tags() -> list[str]:
    """Every audit tag declared by a loaded app, and their scopes (``privacy:``)."""
    values: set[str] = set()
    pending = list(Tag.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        for tag in cls:
            values.add(tag.value)
            values.add(f"{tag.scope}:")
    return sorted(values)


class AuditFilterForm(forms.Form):
    """Filters of the audit log. Read by GET: nothing that identifies a person in clear."""

    personne = forms.CharField(
        label="Personne concernée",
        help_text="Identifiant de la personne ou numéro d'adhérent.",
        required=False,
        max_length=64,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    nature = forms.CharField(
        label="Nature (début)",
        help_text="Par exemple « privacy: » ou « members:nir:reveal ».",
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "list": "natures"}
        ),
    )

    def clean_personne(self) -> str:
        value = self.cleaned_data["personne"]
        if not value:
            return ""
        if must_stay_out_of_urls(value):
            raise ValidationError(NO_NIR_OR_IBAN, code="personal_data")
        number = value.upper()
        if _MEMBER_NUMBER.fullmatch(number):
            person_id = (
                Member.objects.filter(number=number).values_list("person_id", flat=True).first()
            )
            if person_id is None:
                raise ValidationError("Aucun adhérent ne porte ce numéro.", code="unknown")
            return str(person_id)
        if not _SUBJECT_ID.fullmatch(value):
            raise ValidationError(
                "Un identifiant ne contient que des lettres, des chiffres et les signes . _ : -",
                code="invalid",
            )
        return value

    def clean_nature(self) -> str:
        value = self.cleaned_data["nature"].lower()
        if value and not _TAG_PREFIX.fullmatch(value):
            raise ValidationError(
                "Une nature s'écrit en minuscules, par exemple « privacy:hold: ».",
                code="invalid",
            )
        return value

    def scrub(self) -> None:
        if self.is_bound and must_stay_out_of_urls(str(self.data.get("personne", ""))):
            data = self.data.copy()
            data["personne"] = ""
            self.data = data
