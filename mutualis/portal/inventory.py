"""Everything the mutuelle holds on a member, walked from the privacy declaration.

The "Mes données" page shows every field each model declares as personal
(``mutualis.privacy.registry``), grouped by the field's category and labelled with the model
field's ``verbose_name``. A field added to a declaration appears here the day it is declared.

Display rules, in order:

1. a value whose key was shredded reads as the erased marker (``vault.erased``);
2. a field with a dedicated mask shows it (NIR, IBAN);
3. secrets are described, never shown (the password hash);
4. an encrypted field, or a field of a sensitive category, is masked — unless it is listed in
   ``SHOWN_IN_CLEAR`` below: a new sensitive field stays masked until someone decides otherwise;
5. anything else is shown as a French, human-readable value.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format

from mutualis.billing.models import Mandate
from mutualis.contracts.models import Contract
from mutualis.members.models import Beneficiary, Member
from mutualis.members.validators import format_phone
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import Category, FieldDeclaration
from mutualis.rights.export import field_label
from mutualis.rights.export import has_french_label as has_french_label  # re-exported
from mutualis.vault.blind_index import BlindIndexField
from mutualis.vault.erased import ERASED_TEXT, is_erased

NOT_GIVEN = "néant"  # neutral in gender: "Date de fin : néant", "Téléphone : néant"
MASK = "•"

# (model label, field name) -> how to show a masked value.
MASKS: dict[tuple[str, str], Callable[[models.Model], str]] = {
    ("members.person", "nir"): lambda person: person.masked_nir,
    ("billing.mandate", "iban"): lambda mandate: mandate.masked_iban,
}

# Secrets: what they are is said, their value never shown.
SECRETS: dict[tuple[str, str], Callable[[models.Model], str]] = {
    ("members.user", "password"): lambda user: (
        "Défini (conservé sous une forme chiffrée irréversible)"
        if user.has_usable_password()
        else "Pas encore défini"
    ),
}

# Fields of a sensitive category that the member may read in clear on their own page.
SHOWN_IN_CLEAR: frozenset[tuple[str, str]] = frozenset(
    {
        ("members.person", "nir_holder"),
        ("members.person", "scheme_regime"),
        ("members.person", "scheme_caisse"),
        ("members.person", "scheme_centre"),
        ("members.person", "scheme_organisation"),
        ("billing.mandate", "reference"),
        ("billing.mandate", "creditor_identifier"),
        ("billing.mandate", "debtor_name"),
        ("billing.mandate", "bic"),
        ("billing.mandate", "signed_at"),
        ("billing.mandate", "signed_place"),
        ("billing.mandate", "ended_at"),
    }
)

# French labels of fields whose model gives none: one table, FIELD_LABELS in
# mutualis.rights.export, shared with the access and portability exports so they say the same.

FORMATTERS: dict[tuple[str, str], Callable[[str], str]] = {
    ("members.person", "phone_landline"): format_phone,
    ("members.person", "phone_mobile"): format_phone,
}


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    masked: bool = False
    erased: bool = False


@dataclass
class Record:
    """One thing the member has (themself, a beneficiary, a contract…) within one category."""

    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Section:
    category: Category
    records: list[Record] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)


def _is_empty(value: object) -> bool:
    return value is None or value == ""


def mask_value(value: object) -> str:
    """A partial mask for sensitive values without a dedicated one."""
    if _is_empty(value):
        return NOT_GIVEN
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return f"{MASK * 2}/{MASK * 2}/{value.year}"
    text = str(value)
    if len(text) <= 4:
        return MASK * 4
    return MASK * (len(text) - 2) + text[-2:]


def display_value(instance: models.Model, model_field: models.Field, value: object) -> str:
    """A field's value as a French reader expects it."""
    if model_field.many_to_many:
        items = [str(item) for item in value.all()]
        return ", ".join(items) if items else "Aucun"
    if _is_empty(value):
        return NOT_GIVEN
    if model_field.choices:
        return str(getattr(instance, f"get_{model_field.name}_display")())
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j F Y à H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "j F Y")
    return str(value)


def label_of(model_label: str, model_field: models.Field) -> str:
    label = field_label(model_label, model_field)
    return label[:1].upper() + label[1:]


def _row(instance: models.Model, name: str, declaration: FieldDeclaration) -> Row | None:
    model_field = instance._meta.get_field(name)
    if isinstance(model_field, BlindIndexField):
        return None  # a keyed hash of another field, meaningless to read
    key = (instance._meta.label_lower, name)
    label = label_of(instance._meta.label_lower, model_field)
    if key in SECRETS:
        return Row(label, SECRETS[key](instance))
    value = getattr(instance, name)
    if is_erased(value):
        return Row(label, ERASED_TEXT, erased=True)
    if key in MASKS:
        return Row(label, MASKS[key](instance), masked=not _is_empty(value))
    sensitive = declaration.encrypted or declaration.category.sensitive
    if sensitive and key not in SHOWN_IN_CLEAR:
        return Row(label, mask_value(value), masked=not _is_empty(value))
    if key in FORMATTERS and not _is_empty(value):
        return Row(label, FORMATTERS[key](value))
    return Row(label, display_value(instance, model_field, value))


def rows_by_category(instance: models.Model) -> dict[Category, tuple[list[Row], set[str]]]:
    """The declared personal fields of ``instance``: rows and purpose titles, per category."""
    declaration = registry.get(instance._meta.label)
    grouped: dict[Category, tuple[list[Row], set[str]]] = {}
    if declaration is None or not declaration.holds_personal_data:
        return grouped
    for name, field_declaration in declaration.fields.items():
        row = _row(instance, name, field_declaration)
        if row is None:
            continue
        rows, purposes = grouped.setdefault(field_declaration.category, ([], set()))
        rows.append(row)
        purposes.update(purpose.title for purpose in field_declaration.purposes)
    return grouped


def _things(member: Member) -> Iterable[tuple[str, list[models.Model]]]:
    """What the member has, each with a title; several objects may share a title."""
    person = member.person
    beneficiaries = list(member.beneficiaries.select_related("person", "person__data_key"))
    # A child attached to a parent's NIR names that parent: one of the household, already read.
    household = {person.pk: person} | {b.person_id: b.person for b in beneficiaries}
    for someone in household.values():
        if someone.nir_holder_id in household:
            someone.nir_holder = household[someone.nir_holder_id]
    yield "Vous", [person]
    yield f"Votre adhésion n° {member.number}", [member]
    for beneficiary in beneficiaries:
        title = f"{beneficiary.person.full_name} ({beneficiary.get_role_display().lower()})"
        yield title, [beneficiary.person, beneficiary]
    contracts = (
        Contract.objects.filter(member=member)
        .select_related("offer", "policy_version")
        .prefetch_related(
            Prefetch("beneficiaries", queryset=Beneficiary.objects.select_related("person"))
        )
    )
    for contract in contracts:
        contract.member = member
        yield f"Contrat n° {contract.number}", [contract]
    for mandate in Mandate.objects.filter(member=member).select_related("data_key"):
        state = "en cours" if mandate.ended_at is None else "révoqué"
        yield f"Mandat de prélèvement {mandate.reference} ({state})", [mandate]
    if member.account is not None:
        yield "Votre compte de l'espace adhérent", [member.account]


def inventory(member: Member) -> list[Section]:
    """The "Mes données" page: one section per category, in the catalogue's order."""
    sections: dict[Category, Section] = {}
    for title, objects in _things(member):
        per_category: dict[Category, Record] = {}
        for obj in objects:
            for category, (rows, purposes) in rows_by_category(obj).items():
                section = sections.setdefault(category, Section(category))
                for purpose in sorted(purposes):
                    if purpose not in section.purposes:
                        section.purposes.append(purpose)
                record = per_category.get(category)
                if record is None:
                    record = per_category[category] = Record(title)
                    section.records.append(record)
                record.rows.extend(rows)
    order = {category: index for index, category in enumerate(catalogue.ALL_CATEGORIES)}
    result = []
    for category in sorted(sections, key=lambda c: order.get(c, len(order))):
        section = sections[category]
        # A beneficiary without contact details of their own has nothing to show there.
        section.records = [
            record
            for record in section.records
            if any(row.value != NOT_GIVEN for row in record.rows)
        ]
        if section.records:
            result.append(section)
    return result
