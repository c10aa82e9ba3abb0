"""The OpenAPI schema as committed under docs/: generated, then written in a stable form."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from mutualis.partners.api import api

COMMITTED = Path(settings.BASE_DIR) / "docs" / "partners_openapi.json"
PREFIX = "/api/v1/"


def schema() -> dict:
    return api.get_openapi_schema(path_prefix=PREFIX)


def render() -> str:
    """The schema as JSON text: sorted keys, two-space indent, a final newline."""
    return json.dumps(schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
