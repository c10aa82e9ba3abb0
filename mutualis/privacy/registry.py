"""The registry of model declarations, filled by each app's ``privacy.py``.

The privacy app never imports a domain app: at start-up it imports the ``privacy`` module of
every installed app (``autodiscover_modules``), and those modules call :func:`declare`.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Iterable, Iterator

from mutualis.privacy.declaration import (
    FieldDeclaration,
    ModelDeclaration,
    Purpose,
    RetentionRule,
)

_declarations: dict[str, ModelDeclaration] = {}


def _caller_module() -> str:
    frame = inspect.stack()[2]
    return frame.frame.f_globals.get("__name__", "?")


def declare(
    model: str,
    *,
    fields: dict[str, FieldDeclaration],
    not_personal: Iterable[str] = (),
    purpose: Purpose | None = None,
    retention_anchor: str = "",
    subject_field: str = "",
    retention: RetentionRule | None = None,
    retention_scope: dict | None = None,
    anonymised_field: str = "",
    sweep_unreferenced: bool = False,
    person_key_field: str = "",
    retention_handler: str = "",
) -> ModelDeclaration:
    """Declare the personal-data fields of ``model`` ("app_label.ModelName").

    Every concrete field must appear either in ``fields`` (with its category and purposes) or in
    ``not_personal``; the system check ``privacy.E001`` enforces it.
    """
    declaration = ModelDeclaration(
        model=model,
        fields=dict(fields),
        not_personal=frozenset(not_personal),
        holds_personal_data=True,
        retention_anchor=retention_anchor,
        purpose=purpose,
        subject_field=subject_field,
        module=_caller_module(),
        retention=retention,
        retention_scope=tuple(sorted((retention_scope or {}).items())),
        anonymised_field=anonymised_field,
        sweep_unreferenced=sweep_unreferenced,
        person_key_field=person_key_field,
        retention_handler=retention_handler,
    )
    return _register(declaration)


def declare_not_personal(model: str) -> ModelDeclaration:
    """Declare that ``model`` holds no personal data at all (offers, settings, keys...)."""
    return _register(
        ModelDeclaration(model=model, holds_personal_data=False, module=_caller_module())
    )


def _register(declaration: ModelDeclaration) -> ModelDeclaration:
    key = declaration.model.lower()
    existing = _declarations.get(key)
    if existing is not None and existing.module != declaration.module:
        raise ValueError(
            f"{declaration.model} is declared twice ({existing.module}, {declaration.module})"
        )
    _declarations[key] = declaration
    return declaration


def unregister(model: str) -> None:
    """Remove a declaration (tests that declare throw-away models)."""
    _declarations.pop(model.lower(), None)


def get(model: str) -> ModelDeclaration | None:
    return _declarations.get(model.lower())


def all_declarations() -> Iterator[ModelDeclaration]:
    return iter(declarations_in_order())


# (the declarations in the order they were registered, the same sorted by model)
_in_order: list[tuple[ModelDeclaration, ...]] = [(), ()]


def declarations_in_order() -> tuple[ModelDeclaration, ...]:
    """Every declaration, by model name: the same tuple as long as no declaration changed
    (sorted again only then; an access export asks for them on every call)."""
    registered = tuple(_declarations.values())
    known = _in_order[0]
    if len(registered) != len(known) or not all(map(operator.is_, registered, known)):
        _in_order[:] = [registered, tuple(sorted(registered, key=lambda d: d.model.lower()))]
    return _in_order[1]
