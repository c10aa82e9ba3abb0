"""Layering: the ground and the domain apps never name a face (web, portal, backoffice,
partners) — no import of one, no URL name of one, no hard-coded path into one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import mutualis

ROOT = Path(mutualis.__file__).parent
FACES = ("web", "portal", "backoffice", "partners")
BELOW_FACES = (
    "privacy",
    "vault",
    "audit",
    "members",
    "contracts",
    "billing",
    "contact",
    "consent",
    "rights",
)
FACE_URL = re.compile(r"^(web|portal|backoffice|partners):|^/(espace|gestion)/")


def _sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "tests" in path.parts or path.name in {"demo.py", "testing.py"}:
            continue
        yield path


@pytest.mark.parametrize("app", [a for a in BELOW_FACES if (ROOT / a).is_dir()])
def test_a_domain_or_ground_module_never_names_a_face(app):
    offences = []
    for path in _sources(app):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module.split(".")
                if module[0] == "mutualis" and len(module) > 1 and module[1] in FACES:
                    offences.append(f"{path.relative_to(ROOT)}: imports {node.module}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and FACE_URL.match(node.value)
            ):
                offences.append(f"{path.relative_to(ROOT)}: names {node.value!r}")
    assert not offences, "\n".join(offences)
