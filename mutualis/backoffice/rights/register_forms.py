"""The form that registers a rights request received by e-mail, letter, phone or in person, from
anyone: a member, a former member, an adult beneficiary, a prospect, a visitor who wrote (GDPR
art. 12). The person concerned is found by member number, e-mail address or id when they are in
our files; otherwise the requester's name and an address say whom to answer.
"""

from __future__ import annotations

import datetime
import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from mutualis.backoffice.members.search import must_stay_out_of_urls
from mutualis.backoffice.rights.forms import (
    RightsForm,
    clean_rectification_value,
    date_field,
    purpose_choices,
    rectification_field,
    text_field,
)
from mutualis.members.models import Member, Person
from mutualis.privacy import catalogue
from mutualis.privacy.restrictions import ALL_PURPOSES
from mutualis.rights.models import Capacity, Channel, DirectiveScope, IdentityMethod, Kind
from mutualis.rights.objection import OBJECTABLE
from mutualis.rights.post_mortem import HEIR_ACTIONS
from mutualis.rights.rectification import RECTIFIABLE, label, seal_changes

_MEMBER_NUMBER = re.compile(r"A\d{9}")
# How old a request may be when it is registered: one received earlier is surely already known.
MAX_AGE_DAYS = 366

REGISTER_CHANNELS = [
    (Channel.EMAIL, Channel.EMAIL.label),
    (Channel.LETTER, "Courrier postal"),
    (Channel.PHONE, Channel.PHONE.label),
    (Channel.IN_PERSON, "Visite à l'accueil"),
]


class Identity:
    """How identity stands when a request is registered."""

    DOCUMENT = "document"
    OTHER = "other"
    ASK = "ask"
    LATER = "later"
    CHOICES = [
        (DOCUMENT, "Vérifiée sur pièce justificative (présentée, non conservée)"),
        (OTHER, "Vérifiée par un autre moyen raisonnable (à préciser)"),
        (ASK, "Doute raisonnable : demander un justificatif (le délai est suspendu)"),
        (LATER, "Pas encore vérifiée"),
    ]
    METHODS = {DOCUMENT: IdentityMethod.DOCUMENT, OTHER: IdentityMethod.OTHER}


def find_person(text: str) -> Person:
    """The person a member number, an e-mail address or a person id designates.

    Raises ``ValidationError`` (French) when none, or several, match.
    """
    text = text.strip()
    if must_stay_out_of_urls(text):
        raise ValidationError(
            "Recherchez par numéro d'adhérent, adresse électronique ou identifiant : ne saisissez "
            "ni numéro de sécurité sociale ni IBAN."
        )
    if _MEMBER_NUMBER.fullmatch(text.upper()):
        member = Member.objects.filter(number=text.upper()).select_related("person").first()
        if member is None:
            raise ValidationError("Aucun adhérent ne porte ce numéro.")
        return member.person
    if "@" in text:
        people = list(Person.objects.filter(email__iexact=text)[:2])
        if not people:
            raise ValidationError(
                "Aucune personne n'a cette adresse électronique dans nos fichiers : laissez ce "
                "champ vide et renseignez le demandeur ci-dessous."
            )
        if len(people) > 1:
            raise ValidationError(
                "Plusieurs personnes ont cette adresse : saisissez le numéro d'adhérent."
            )
        return people[0]
    try:
        person_id = uuid.UUID(text)
    except ValueError:
        raise ValidationError(
            "Saisissez un numéro d'adhérent (A suivi de 9 chiffres), une adresse électronique "
            "ou l'identifiant de la personne."
        ) from None
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise ValidationError("Aucune personne ne porte cet identifiant.")
    return person


class RegisterRequestForm(RightsForm):
    """A request received by e-mail, letter, phone or in person, from anyone (GDPR art. 12)."""

    secret_fields = ("rect_nir",)

    kind = forms.ChoiceField(
        label="Droit exercé",
        choices=[("", "— choisir —"), *Kind.choices],
        error_messages={"required": "Choisissez le droit exercé."},
    )
    channel = forms.ChoiceField(
        label="Reçue par",
        choices=REGISTER_CHANNELS,
        widget=forms.RadioSelect,
        initial=Channel.LETTER,
        error_messages={"required": "Indiquez comment la demande est arrivée."},
    )
    received_on = date_field(
        "Reçue le", help_text="La date de réception fait courir le délai d'un mois."
    )
    person_ref = forms.CharField(
        label="Personne concernée : numéro d'adhérent, adresse électronique ou identifiant "
        "(facultatif)",
        max_length=254,
        required=False,
        help_text="Adhérent, ancien adhérent, bénéficiaire… Laissez vide pour quelqu'un qui "
        "n'est pas dans nos fichiers ou que vous ne retrouvez pas.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    requester_capacity = forms.ChoiceField(
        label="Le demandeur est",
        choices=Capacity.choices,
        initial=Capacity.SELF,
        widget=forms.RadioSelect,
    )
    requester_name = forms.CharField(
        label="Nom et prénom du demandeur",
        max_length=150,
        required=False,
        help_text="Obligatoire quand la personne n'est pas retrouvée, ou quand un tiers "
        "(représentant, héritier) écrit pour elle.",
    )
    requester_email = forms.EmailField(
        label="Adresse électronique du demandeur (facultatif)",
        max_length=254,
        required=False,
        error_messages={"invalid": "Saisissez une adresse électronique valide."},
    )
    requester_address = text_field("Adresse postale du demandeur (facultatif)", max_length=500)
    identity = forms.ChoiceField(
        label="Identité du demandeur",
        choices=Identity.CHOICES,
        widget=forms.RadioSelect,
        initial=Identity.LATER,
        help_text="Par tout moyen raisonnable ; un justificatif n'est demandé qu'en cas de "
        "doute raisonnable (RGPD art. 12(6)).",
    )
    identity_note = text_field(
        "Comment l'identité a été vérifiée, ou la raison du doute",
        help_text="Par exemple : questions sur le contrat posées au téléphone. Ne recopiez "
        "aucun numéro de la pièce.",
        max_length=1000,
    )
    summary = text_field("Résumé de la demande (facultatif)", rows=4)
    # Objection (GDPR art. 21(1)).
    objection_purposes = forms.MultipleChoiceField(
        label="Traitements visés par l'opposition",
        choices=purpose_choices(OBJECTABLE),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    objection_grounds = text_field("Raisons avancées par la personne")
    # Restriction (GDPR art. 18).
    restriction_scope = forms.MultipleChoiceField(
        label="Usages à limiter",
        choices=[(ALL_PURPOSES, "Tous les usages"), *purpose_choices(catalogue.ALL_PURPOSES)],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    restriction_reason = text_field("Motif de la limitation (RGPD art. 18(1))")
    # Post-mortem directives (Loi 78-17 art. 85).
    directive_scope = forms.ChoiceField(
        label="Portée des directives",
        choices=DirectiveScope.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    directive_instructions = text_field("Directives", rows=4, max_length=5000)
    designated_name = forms.CharField(
        label="Personne désignée (facultatif)", max_length=150, required=False
    )
    designated_email = forms.EmailField(
        label="Adresse électronique de la personne désignée (facultatif)",
        max_length=254,
        required=False,
        error_messages={"invalid": "Saisissez une adresse électronique valide."},
    )
    heir_actions = forms.MultipleChoiceField(
        label="Ce que demande l'héritier (loi 78-17 art. 85-II)",
        choices=list(HEIR_ACTIONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        for name in RECTIFIABLE:
            field = rectification_field(name)
            field.label = f"{label(name)} : nouvelle valeur"
            self.fields[f"rect_{name}"] = field
        self.person: Person | None = None

    @property
    def rectification_fields(self) -> list:
        return [self[f"rect_{name}"] for name in RECTIFIABLE]

    def clean_received_on(self) -> datetime.date:
        day = self.cleaned_data["received_on"]
        today = timezone.localdate()
        if day > today:
            raise ValidationError("La date de réception ne peut pas être dans le futur.")
        if (today - day).days > MAX_AGE_DAYS:
            raise ValidationError(
                "Cette date a plus d'un an : vérifiez-la (une demande se traite en trois mois "
                "au plus)."
            )
        return day

    def clean_person_ref(self) -> str:
        text = self.cleaned_data["person_ref"].strip()
        if text:
            self.person = find_person(text)
        return text

    def _changes(self) -> dict:
        changes = {}
        for name in RECTIFIABLE:
            key = f"rect_{name}"
            if key in self.errors:
                continue
            try:
                value = clean_rectification_value(name, self.cleaned_data.get(key))
            except ValidationError as error:
                self.add_error(key, error)
                continue
            if value not in (None, ""):
                changes[name] = value
        return changes

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        capacity = data.get("requester_capacity") or Capacity.SELF
        has_person = self.person is not None
        if (not has_person or capacity != Capacity.SELF) and "person_ref" not in self.errors:
            if not data.get("requester_name"):
                self.add_error(
                    "requester_name",
                    "Indiquez le nom du demandeur"
                    + ("." if has_person else ", ou retrouvez la personne concernée ci-dessus."),
                )
            if not (data.get("requester_email") or data.get("requester_address")):
                self.add_error(
                    "requester_email",
                    "Indiquez une adresse électronique ou postale où répondre au demandeur.",
                )
        identity = data.get("identity")
        note = (data.get("identity_note") or "").strip()
        if identity == Identity.OTHER and len(note) < 5:
            self.add_error("identity_note", "Précisez comment l'identité a été vérifiée.")
        if identity == Identity.ASK and len(note) < 5:
            self.add_error("identity_note", "Indiquez la raison du doute sur l'identité.")
        needs_person = kind in (Kind.RECTIFICATION, Kind.POST_MORTEM)
        if needs_person and not has_person and "person_ref" not in self.errors:
            self.add_error(
                "person_ref",
                "Pour ce droit, retrouvez la personne concernée (numéro d'adhérent, adresse "
                "électronique ou identifiant).",
            )
        if kind == Kind.RECTIFICATION:
            self.changes = self._changes()
            if not self.changes and not self.errors:
                self.add_error(
                    None, "Indiquez au moins une donnée à rectifier et sa nouvelle valeur."
                )
        if kind == Kind.OBJECTION:
            if not data.get("objection_purposes"):
                self.add_error("objection_purposes", "Choisissez au moins un traitement.")
            if not (data.get("objection_grounds") or "").strip():
                self.add_error("objection_grounds", "Indiquez les raisons avancées.")
        if kind == Kind.RESTRICTION and not data.get("restriction_scope"):
            self.add_error("restriction_scope", "Choisissez au moins un usage, ou tous.")
        if kind == Kind.POST_MORTEM:
            if capacity == Capacity.SELF:
                if not data.get("directive_scope"):
                    self.add_error("directive_scope", "Choisissez la portée des directives.")
                if len((data.get("directive_instructions") or "").strip()) < 10:
                    self.add_error(
                        "directive_instructions", "Écrivez les directives (10 caractères au moins)."
                    )
                if data.get("designated_email") and not data.get("designated_name"):
                    self.add_error("designated_name", "Indiquez le nom de la personne désignée.")
            elif not data.get("heir_actions"):
                self.add_error("heir_actions", "Indiquez ce que demande l'héritier.")
        return data

    def received_at(self) -> datetime.datetime:
        """Now for today's mail; noon (Paris) for an earlier day of receipt."""
        day = self.cleaned_data["received_on"]
        if day == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))

    def details(self) -> dict:
        """What the request is about, as the kind's handler reads it."""
        data = self.cleaned_data
        kind = data["kind"]
        details: dict = {}
        summary = data["summary"].strip()
        if summary:
            details["summary"] = summary
        if kind == Kind.RECTIFICATION:
            details["changes"] = seal_changes(self.person, self.changes)
        elif kind == Kind.OBJECTION:
            details["purposes"] = data["objection_purposes"]
            details["grounds"] = data["objection_grounds"].strip()
        elif kind == Kind.RESTRICTION:
            scope = data["restriction_scope"]
            details["purposes"] = [ALL_PURPOSES] if ALL_PURPOSES in scope else scope
            details["reason"] = data["restriction_reason"].strip()
        elif kind == Kind.POST_MORTEM:
            if data["requester_capacity"] == Capacity.SELF:
                details["scope"] = data["directive_scope"]
                details["instructions"] = data["directive_instructions"].strip()
                details["designated_name"] = data["designated_name"].strip()
                details["designated_email"] = data["designated_email"].strip().lower()
            else:
                details["heir_actions"] = data["heir_actions"]
        return details
