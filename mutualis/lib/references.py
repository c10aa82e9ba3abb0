"""Random public references that stay unique as the tables grow.

A reference such as ``D26-3FA09C1E`` has 32 random bits: with millions of rows a new draw meets an
existing one now and then, and an INSERT would fail. The model draws again until the value is
free (:func:`fresh`), so a collision costs one more query instead of a refused request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

MAX_DRAWS = 20


def fresh(instance: models.Model, field: str, draw: Callable[[], str]) -> None:
    """Give a new ``instance`` a value of ``field`` no other row has, drawing again if needed.

    References are the model's own (never typed in): a value already taken is drawn again.
    """
    if not instance._state.adding:
        return
    manager = type(instance)._base_manager.using(instance._state.db or "default")
    for _ in range(MAX_DRAWS):
        if not manager.filter(**{field: getattr(instance, field)}).exists():
            return
        setattr(instance, field, draw())
    raise RuntimeError(f"no free {field} after {MAX_DRAWS} draws")
