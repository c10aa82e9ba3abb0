"""The marker read in place of data whose key was shredded.

Rule: after crypto-shredding, every encrypted value of the person reads as :data:`ERASED`, a
``str`` that renders as "[donnée effacée]"; pages keep working, nothing pretends the data is
still there, and ``is_erased(value)`` tells it apart from a real value.
"""

from __future__ import annotations

from typing import Any

ERASED_TEXT = "[donnée effacée]"


class ErasedValue(str):
    """The type of :data:`ERASED` (a single instance exists)."""

    __slots__ = ()

    def __new__(cls) -> ErasedValue:
        return super().__new__(cls, ERASED_TEXT)

    def __repr__(self) -> str:
        return "ERASED"

    def __reduce__(self) -> str:
        # Pickled by reference: unpickling gives back the module-level singleton.
        return "ERASED"

    def __copy__(self) -> ErasedValue:
        return self

    def __deepcopy__(self, memo: dict) -> ErasedValue:
        return self


ERASED = ErasedValue()


def is_erased(value: Any) -> bool:
    """True when ``value`` is the erased marker (the data's key was shredded)."""
    return isinstance(value, ErasedValue)
