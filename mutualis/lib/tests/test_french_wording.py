"""French wording in what people read: plurals and elision that cannot come back wrong.

French puts 0 and 1 in the singular ("0 demande ouverte", "1 compte"): Django's ``|pluralize``
says "0 demandes", and "demande(s)" leaves the reader to choose. Templates use ``|pluriel`` and
Python code ``mutualis.lib.french.plural``; a name after "de" goes through ``|de`` ("d'Alice").
This scans every template and every Python string of the project (tests, migrations and
docstrings aside: they are not read by people using the software).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import mutualis

ROOT = Path(mutualis.__file__).parent
TEMPLATE_SUFFIXES = {".html", ".txt", ".xml", ".md"}
# A word ending in "(s)": "demande(s)", "reçue(s)" (not a call such as "pg_snapshot_xmin(s)").
PARENS_PLURAL = re.compile(r"(?<![\w])[^\W\d_]+\(s\)")
PLURALIZE = re.compile(r"\|\s*pluralize\b")
# "de {{ person.full_name }}": a name after "de" without the |de filter ("de Alice").
NAME_AFTER_DE = re.compile(r"\b[dD]e \{\{(?P<expr>[^}]*name[^}]*)\}\}")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _templates() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        if "templates" in path.parts and path.suffix in TEMPLATE_SUFFIXES and path.is_file():
            yield path


def _python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "conftest.py":
            continue
        yield path


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def python_strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module (f-strings by their literal parts), docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # its literal parts are read with it, not alone
            skip.update(id(part) for part in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            yield node.lineno, text
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            yield node.lineno, node.value


def _offences(rel: str, line: int, text: str) -> list[str]:
    found = []
    for match in PARENS_PLURAL.finditer(text):
        found.append(f"{rel}:{line}: « {match.group()} » (use lib.french.plural)")
    if PLURALIZE.search(text):
        found.append(f"{rel}:{line}: |pluralize (use |pluriel: 0 takes the singular)")
    return found


def test_no_template_pluralizes_in_english_or_leaves_the_plural_in_brackets():
    offences = []
    for path in _templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            offences += _offences(_relative(path), number, line)
    assert not offences, "\n".join(offences)


def test_no_python_string_leaves_the_plural_in_brackets():
    offences = []
    for path in _python_files():
        for number, text in python_strings(path):
            offences += _offences(_relative(path), number, text)
    assert not offences, "\n".join(offences)


def test_a_name_after_de_is_elided_by_the_de_filter():
    offences = []
    for path in _templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in NAME_AFTER_DE.finditer(line):
                if "|de" not in match.group("expr").replace(" ", ""):
                    offences.append(f"{_relative(path)}:{number}: {match.group()}")
    assert not offences, "\n".join(offences)


def test_the_scan_sees_what_it_must_refuse(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Module docstring: key(s) in English."""\n'
        "count = 2\n"
        'a = f"{count} demande(s) ouverte(s)"\n'
        'b = "SELECT pg_snapshot_xmin(s)"\n'
        'c = "{{ n }} compte{{ n|pluralize }}"\n',
        encoding="utf-8",
    )
    found = [o for n, text in python_strings(sample) for o in _offences("sample.py", n, text)]
    assert len(found) == 3
    assert "demande(s)" in found[0] and "ouverte(s)" in found[1] and "pluralize" in found[2]
    assert NAME_AFTER_DE.search("Compte de {{ account.display_name }}")
    assert not NAME_AFTER_DE.search("Compte de l'espace {{ x }}")
