"""Template filters for French: ``{{ name|de }}`` ("d'Alice"), ``{{ n|pluriel }}``."""

from django import template

from mutualis.lib import french

register = template.Library()


@register.filter
def de(value) -> str:
    return french.de(value)


@register.filter
def pluriel(value, suffix: str = "s") -> str:
    """Like ``pluralize``, but 0 takes the singular, as in French."""
    count = len(value) if hasattr(value, "__len__") and not isinstance(value, str) else value
    return french.plural(count, suffix)
