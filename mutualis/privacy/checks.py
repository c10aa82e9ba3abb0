"""System checks that keep the declaration and the models in step.

``manage.py check`` (and so ``runserver``, ``migrate`` and the test suite) fails when:

- privacy.E001: an installed model has no declaration — the project's own models and those of
  third-party apps alike (login attempts, sessions, second-factor devices hold personal data
  too: they are declared in :mod:`mutualis.privacy.third_party`);
- privacy.E002: a field of a declared model is neither declared personal nor not personal;
- privacy.E003: a declaration names a field the model does not have;
- privacy.E004: a declaration names a model that does not exist;
- privacy.E005: a purpose lacks a legal basis or a retention rule;
- privacy.E006: a field declared encrypted is not stored encrypted, or the reverse;
- privacy.E007: a field's category is not among the categories of one of its purposes;
- privacy.E008: a retention anchor or subject field names a field the model does not have.
- privacy.E009: a retention rule with an intermediate archive, on a model without ``archived_at``;
  an anonymising rule without its ``anonymised_field``; a retention handler that cannot be
  imported.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import ModelDeclaration, Purpose

PROJECT_PREFIX = "mutualis."


def project_models() -> list[type[models.Model]]:
    return [model for model in installed_models() if is_project_model(model)]


def installed_models() -> list[type[models.Model]]:
    """Every concrete model of every installed app, third-party apps included."""
    return [model for model in apps.get_models() if not model._meta.proxy]


def is_project_model(model: type[models.Model]) -> bool:
    return model.__module__.startswith(PROJECT_PREFIX)


def _declare_hint(model: type[models.Model]) -> str:
    label = model._meta.label
    where = (
        f"{model._meta.app_config.name}.privacy"
        if is_project_model(model)
        else "mutualis.privacy.third_party (a third-party model: say what it holds)"
    )
    return f"Call declare('{label}', ...) or declare_not_personal('{label}') in {where}."


def concrete_field_names(model: type[models.Model]) -> set[str]:
    """Fields that store a value in the model's own table (the auto primary key excluded)."""
    names = set()
    for f in model._meta.concrete_fields:
        if f.primary_key and isinstance(f, models.AutoField | models.BigAutoField):
            continue
        names.add(f.name)
    for f in model._meta.many_to_many:
        names.add(f.name)
    return names


def _resolves(model: type[models.Model], path: str) -> bool:
    current = model
    for part in path.split("__"):
        try:
            f = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if f.is_relation and f.related_model is not None:
            current = f.related_model
    return True


def purpose_problems(purposes: Iterable[Purpose]) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for purpose in purposes:
        if purpose.legal_basis is None:
            errors.append(
                checks.Error(
                    f"Purpose {purpose.code!r} has no legal basis.",
                    hint="Give it a LegalBasis (GDPR art. 6(1)).",
                    id="privacy.E005",
                )
            )
        if purpose.retention is None:
            errors.append(
                checks.Error(
                    f"Purpose {purpose.code!r} has no retention rule.",
                    hint="Give it a RetentionRule (anchor, active, archive, end action).",
                    id="privacy.E005",
                )
            )
    return errors


def model_problems(
    model: type[models.Model], declaration: ModelDeclaration | None
) -> list[checks.CheckMessage]:
    label = model._meta.label
    if declaration is None:
        return [
            checks.Error(
                f"{label} is not declared in the privacy declaration.",
                hint=_declare_hint(model),
                obj=model,
                id="privacy.E001",
            )
        ]
    if not declaration.holds_personal_data:
        return []
    errors: list[checks.CheckMessage] = []
    existing = concrete_field_names(model)
    declared = declaration.declared_names()
    for name in sorted(existing - declared):
        errors.append(
            checks.Error(
                f"{label}.{name} is not declared: say whether it holds personal data.",
                hint=f"Add {name!r} to fields=... (category, purposes) or to not_personal=... "
                f"in {declaration.module}.",
                obj=model,
                id="privacy.E002",
            )
        )
    for name in sorted(declared - existing):
        errors.append(
            checks.Error(
                f"{label}.{name} is declared in {declaration.module} but the model has no such "
                "field.",
                obj=model,
                id="privacy.E003",
            )
        )
    for name, decl in sorted(declaration.fields.items()):
        if name not in existing:
            continue
        stored_encrypted = bool(getattr(model._meta.get_field(name), "is_encrypted", False))
        if stored_encrypted != decl.encrypted:
            errors.append(
                checks.Error(
                    f"{label}.{name} is declared {'' if decl.encrypted else 'not '}encrypted "
                    f"but is {'' if stored_encrypted else 'not '}stored encrypted.",
                    obj=model,
                    id="privacy.E006",
                )
            )
        for purpose in sorted(decl.purposes, key=lambda p: p.code):
            if decl.category not in purpose.categories:
                errors.append(
                    checks.Error(
                        f"{label}.{name}: category {decl.category.code!r} is not among the "
                        f"categories of purpose {purpose.code!r}.",
                        obj=model,
                        id="privacy.E007",
                    )
                )
    errors.extend(_retention_problems(model, declaration))
    for attr in ("retention_anchor", "subject_field"):
        path = getattr(declaration, attr)
        if path and not _resolves(model, path):
            errors.append(
                checks.Error(
                    f"{label}: {attr} {path!r} does not name a field of the model.",
                    obj=model,
                    id="privacy.E008",
                )
            )
    return errors


def _retention_problems(
    model: type[models.Model], declaration: ModelDeclaration
) -> list[checks.CheckMessage]:
    from django.utils.module_loading import import_string

    from mutualis.privacy.declaration import EndAction

    label = model._meta.label
    rule = declaration.retention_rule
    if not declaration.retention_anchor or rule is None:
        return []
    errors: list[checks.CheckMessage] = []
    names = {f.name for f in model._meta.get_fields()}
    if declaration.retention_handler:
        try:
            import_string(declaration.retention_handler)
        except ImportError:
            errors.append(
                checks.Error(
                    f"{label}: retention handler {declaration.retention_handler!r} cannot be "
                    "imported.",
                    obj=model,
                    id="privacy.E009",
                )
            )
        return errors
    if not rule.archive.is_zero and "archived_at" not in names:
        errors.append(
            checks.Error(
                f"{label}: its retention rule has an intermediate archive but the model has no "
                "archived_at field.",
                hint="Add archived_at = DateTimeField(null=True, blank=True).",
                obj=model,
                id="privacy.E009",
            )
        )
    if rule.end_action == EndAction.ANONYMISE and declaration.anonymised_field not in names:
        errors.append(
            checks.Error(
                f"{label}: an anonymising rule needs anonymised_field naming a nullable "
                "datetime field of the model.",
                obj=model,
                id="privacy.E009",
            )
        )
    return errors


@checks.register("privacy")
def check_declaration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    used_purposes: set[Purpose] = set(catalogue.ALL_PURPOSES)
    known = set()
    for model in installed_models():
        declaration = registry.get(model._meta.label)
        known.add(model._meta.label_lower)
        errors.extend(model_problems(model, declaration))
        if declaration is not None:
            for decl in declaration.fields.values():
                used_purposes.update(decl.purposes)
    for declaration in registry.all_declarations():
        if declaration.model.lower() not in known:
            errors.append(
                checks.Error(
                    f"{declaration.model} is declared in {declaration.module} but no such model "
                    "is installed.",
                    id="privacy.E004",
                )
            )
    errors.extend(purpose_problems(sorted(used_purposes, key=lambda p: p.code)))
    return errors
