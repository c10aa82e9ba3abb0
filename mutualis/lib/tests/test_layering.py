"""Layering: the ground and the domain apps never name a face (web, portal, backoffice,
partners) — no import of one, no URL name of one, no path into one — in their Python modules
(demo data included) nor in their templates. A face passes the links a domain needs
(architecture.md §8; ``lib/links.py`` for fixed entry points)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import mutualis

ROOT = Path(mutualis.__file__).parent
FACES = ("web", "portal", "backoffice", "partners")
# Packages that are neither a face nor below one.
NOT_APPS = {"tests_security": "the security suite, which tests the faces' pages"}
# Strings that are a face's URL name used as data, not as a link: (file, reason).
DATA_NOT_LINKS = {
    "audience/demo.py": "made-up audience events name the pages by the route the web face records",
}
# A path on the site: "/espace/connexion/", "/api/v1/rights-checks".
SITE_PATH = re.compile(r"^/[a-z0-9][a-z0-9_.-]*(/|$)")
TEMPLATE_URL = re.compile(r"{%\s*url\s+['\"](?P<name>[\w:-]+)['\"]")
TEMPLATE_HREF = re.compile(r"(?:href|action|src)=\"(?P<path>/[^\"{]*)\"")


def below_faces() -> list[str]:
    """Every package of the project that is not a face: the ground and the domain apps."""
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in FACES and p.name not in NOT_APPS
    )


def _names(patterns, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _names(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}"


def face_url_names() -> set[str]:
    return {name for name in _names(get_resolver().url_patterns) if name.split(":")[0] in FACES}


def face_of_path(value: str) -> str | None:
    """The face a path on the site leads to, if any."""
    from django.urls import Resolver404, resolve

    if not SITE_PATH.match(value):
        return None
    try:
        match = resolve(value.split("?")[0])
    except Resolver404:
        return None
    module = match.func.__module__.split(".")
    namespace = match.namespaces[0] if match.namespaces else ""
    face = namespace if namespace in FACES else (module[1] if len(module) > 1 else "")
    return face if face in FACES else None


def python_offences(path: Path, rel: str, names: set[str]) -> list[str]:
    offences = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module.split(".")
            if module[0] == "mutualis" and len(module) > 1 and module[1] in FACES:
                offences.append(f"{rel}: imports {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = alias.name.split(".")
                if module[0] == "mutualis" and len(module) > 1 and module[1] in FACES:
                    offences.append(f"{rel}: imports {alias.name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in names and rel not in DATA_NOT_LINKS:
                offences.append(f"{rel}: names {node.value!r}")
            elif face_of_path(node.value):
                offences.append(f"{rel}: hard-codes {node.value!r} ({face_of_path(node.value)})")
    return offences


def template_offences(text: str, rel: str) -> list[str]:
    offences = []
    for match in TEMPLATE_URL.finditer(text):
        if match["name"].split(":")[0] in FACES:
            offences.append(f"{rel}: {{% url '{match['name']}' %}}")
    for match in TEMPLATE_HREF.finditer(text):
        if face := face_of_path(match["path"]):
            offences.append(f"{rel}: hard-codes {match['path']!r} ({face})")
    return offences


@pytest.mark.parametrize("app", below_faces())
def test_a_domain_or_ground_module_never_names_a_face(app):
    names = face_url_names()
    offences = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "tests" in path.parts:
            continue
        offences += python_offences(path, path.relative_to(ROOT).as_posix(), names)
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("app", below_faces())
def test_a_domain_or_ground_template_never_names_a_face(app):
    offences = []
    for path in sorted((ROOT / app).rglob("*")):
        if "templates" in path.parts and path.is_file():
            text = path.read_text(encoding="utf-8")
            offences += template_offences(text, path.relative_to(ROOT).as_posix())
    assert not offences, "\n".join(offences)


def test_every_package_is_a_face_or_below_one():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == {*FACES, *NOT_APPS, *below_faces()}
    # The apps that joined the project after the first layering rules are scanned too.
    assert {"recipients", "breaches", "audience", "staff", "consent"} <= set(below_faces())
    for rel in DATA_NOT_LINKS:
        assert (ROOT / rel).exists(), f"{rel} no longer exists: remove it from DATA_NOT_LINKS"


def test_the_scan_refuses_a_face_named_in_any_of_its_forms(tmp_path):
    sample = tmp_path / "demo.py"
    sample.write_text(
        "from mutualis.portal import links\n"
        'LOGIN = "/espace/connexion/"\n'
        'API = "/api/v1/rights-checks"\n'
        'NAME = "web:policy"\n'
        'TAG = "partners:key:refused"  # an audit tag, not a URL name\n'
        'FILE = "/tmp/export.csv"\n',
        encoding="utf-8",
    )
    found = python_offences(sample, "contracts/demo.py", face_url_names())
    assert len(found) == 4, found
    assert "imports mutualis.portal" in found[0]
    assert any("'/espace/connexion/' (portal)" in f for f in found)
    assert any("'/api/v1/rights-checks' (partners)" in f for f in found)
    assert any("names 'web:policy'" in f for f in found)
    html = '<a href="{% url \'web:cookies\' %}">x</a> <a href="/gestion/">y</a> <a href="/x/">z'
    found = template_offences(html, "contracts/templates/x.html")
    assert len(found) == 2 and "web:cookies" in found[0] and "(backoffice)" in found[1]
