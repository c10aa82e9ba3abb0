"""The plan: what to read for each declared model, and what GDPR art. 15(1) says of each field.

Built once per process from the declaration (``mutualis.privacy.registry``); a declaration
registered later (or again) gets a new plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from mutualis.members.models import Beneficiary
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import FieldDeclaration, ModelDeclaration
from mutualis.rights.export.labels import (
    GENERATED,
    NOT_WALKED,
    PORTABLE_BASES,
    PROVIDED,
    SUBJECT_ID_FIELD,
    field_label,
    namer,
)
from mutualis.rights.export.render import share
from mutualis.vault.blind_index import BlindIndexField
from mutualis.vault.fields import EncryptedDateField

VALUE, ENCRYPTED, CHOICE, RELATION, MANY, BINARY, SECRET, INDEX = (
    "value",
    "encrypted",
    "choice",
    "relation",
    "many",
    "binary",
    "secret",
    "index",
)


@dataclass(frozen=True)
class FieldPlan:
    name: str
    kind: str
    model_field: models.Field
    category: catalogue.Category
    label: str
    portable: bool
    info: dict  # what the access export states of this field, once (see field_information)
    type_name: str
    columns: tuple[str, ...] = ()  # for a relation: the related columns its name needs
    namer: Callable[..., str] | None = None
    choices: dict | None = None


@dataclass(frozen=True)
class ModelPlan:
    declaration: ModelDeclaration
    model: type[models.Model]
    code: str  # "app_label.modelname"
    label: str  # the model's verbose name
    path: str  # ORM path from the model to the person's primary key (or their subject_id)
    depth: int
    beneficiaries: bool  # rows of the member's beneficiaries are held under the contract
    fields: tuple[FieldPlan, ...]
    portable_fields: tuple[FieldPlan, ...]  # those in the portability archive
    name_field: str  # names a binary content ("filename"), "" for none
    information: dict  # {"model": label, "fields": {code: info}}: the export's declaration
    purposes: frozenset[str]  # codes of the purposes its fields serve
    layouts: dict = field(default_factory=dict, compare=False, repr=False)


def _path_models(model: type[models.Model], path: str) -> list[type[models.Model]]:
    found = [model]
    for part in path.split("__")[:-1]:
        model = model._meta.get_field(part).related_model
        found.append(model)
    return found


def _type_name(model_field: models.Field) -> str:
    for cls, name in (
        (models.DateTimeField, "datetime"),
        (models.DateField, "date"),
        (models.BooleanField, "boolean"),
        (models.DecimalField, "decimal"),
        (models.IntegerField, "integer"),
        (models.JSONField, "json"),
    ):
        if isinstance(model_field, cls):
            return name
    return "date" if isinstance(model_field, EncryptedDateField) else "string"


def field_information(
    label: str, type_name: str, decl: FieldDeclaration, rule
) -> dict[str, object]:
    """GDPR art. 15(1) for one field: purposes (a), category (b), recipients (c), retention
    (d), source (g), with the legal bases of the purposes (art. 13(1)(c))."""
    order = {p.code: i for i, p in enumerate(catalogue.ALL_PURPOSES)}
    purposes = sorted(decl.purposes, key=lambda p: order.get(p.code, len(order)))
    bases, recipients = [], []
    for purpose in purposes:
        basis = purpose.legal_basis
        item = {"article": basis.article, "label": basis.label} if basis else None
        if item and item not in bases:
            bases.append(item)
        for recipient in purpose.recipients:
            if decl.category in recipient.categories and recipient.label not in recipients:
                recipients.append(recipient.label)
    if rule is not None:
        retention = rule.summary
    else:
        retention = " / ".join(sorted({p.retention.summary for p in purposes if p.retention}))
    return {
        "field": label,
        "category": decl.category.code,
        "type": type_name,
        "purposes": [p.title for p in purposes],
        "legal_bases": bases,
        "recipients": recipients,
        "retention": retention,
        "source": PROVIDED if decl.provided_by_subject else GENERATED,
    }


def _field_plan(model: type[models.Model], name: str, decl: FieldDeclaration, rule) -> FieldPlan:
    model_field = model._meta.get_field(name)
    label = field_label(model._meta.label_lower, model_field)
    portable = decl.provided_by_subject and any(
        p.legal_basis in PORTABLE_BASES for p in decl.purposes
    )
    kind, extra = VALUE, {}
    if getattr(model_field, "is_encrypted", False):
        kind = ENCRYPTED
    elif isinstance(model_field, BlindIndexField):
        kind, portable = INDEX, False
    elif name == "password" and issubclass(model, AbstractBaseUser):
        kind, portable = SECRET, False
    elif model_field.is_relation:
        kind = MANY if model_field.many_to_many else RELATION
        columns, name_of = namer(model_field.related_model)
        extra = {"columns": columns, "namer": name_of}
    elif isinstance(model_field, models.BinaryField):
        kind = BINARY
    elif model_field.choices:
        kind = CHOICE
        extra = {"choices": {k: str(v) for k, v in model_field.flatchoices}}
    type_name = {MANY: "list", RELATION: "reference", BINARY: "file", CHOICE: "code"}.get(
        kind, _type_name(model_field)
    )
    info = field_information(label, type_name, decl, rule)
    return FieldPlan(
        name, kind, model_field, decl.category, label, portable, info, type_name, **extra
    )


def _plan(declaration: ModelDeclaration) -> ModelPlan:
    model = apps.get_model(declaration.model)
    rule = declaration.retention_rule
    subject = subject_path(declaration)
    chain = [] if subject == "id" else _path_models(model, subject)
    names = {f.name for f in model._meta.concrete_fields}
    fields = tuple(
        _field_plan(model, name, decl, rule) for name, decl in declaration.fields.items()
    )
    label = str(model._meta.verbose_name)
    return ModelPlan(
        declaration=declaration,
        model=model,
        code=model._meta.label_lower,
        label=label,
        path="pk" if subject == "id" else subject,
        depth=0 if subject == "id" else len(chain),
        beneficiaries=subject == "id" or Beneficiary in chain,
        fields=fields,
        portable_fields=tuple(f for f in fields if f.portable),
        name_field=next((n for n in ("filename", "name") if n in names), ""),
        information=share({"model": label, "fields": {f.name: f.info for f in fields}}),
        purposes=frozenset(p.code for d in declaration.fields.values() for p in d.purposes),
    )


def subject_path(declaration: ModelDeclaration) -> str:
    if declaration.subject_field:
        return declaration.subject_field
    return SUBJECT_ID_FIELD if SUBJECT_ID_FIELD in declaration.fields else ""


_plans: dict[int, tuple[ModelDeclaration, ModelPlan]] = {}
# (the declarations, their plans)
_walked: list = [(), []]


def plans() -> list[ModelPlan]:
    """One plan per walkable declaration, in a stable order (the person first)."""
    declarations = registry.declarations_in_order()
    if declarations is _walked[0]:
        return _walked[1]
    found = []
    for declaration in declarations:
        if not (declaration.holds_personal_data and declaration.fields):
            continue
        if declaration.model.lower() in NOT_WALKED or not subject_path(declaration):
            continue
        cached = _plans.get(id(declaration))
        if cached is None or cached[0] is not declaration:
            cached = _plans[id(declaration)] = (declaration, _plan(declaration))
        found.append(cached[1])
    found.sort(key=lambda p: (p.depth, p.code))
    _walked[:] = [declarations, found]
    return found
