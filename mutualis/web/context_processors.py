from django.conf import settings
from django.http import HttpRequest


def organisation(request: HttpRequest) -> dict:
    return {"organisation": settings.MUTUALIS_ORGANISATION}


def audience(request: HttpRequest) -> dict:
    """Whether the page loads the audience script (not once the visitor has refused it)."""
    from mutualis.web.audience import refuses

    return {"audience_measured": not refuses(request)}
