from django.conf import settings
from django.http import HttpRequest


def organisation(request: HttpRequest) -> dict:
    return {"organisation": settings.MUTUALIS_ORGANISATION}
