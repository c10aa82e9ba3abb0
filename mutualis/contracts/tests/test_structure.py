"""The contracts modules import one another without a cycle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import mutualis.contracts

PACKAGE = Path(mutualis.contracts.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every ``mutualis.contracts.*`` module a file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "mutualis.contracts":
                found.update(f"mutualis.contracts.{alias.name}" for alias in node.names)
            elif node.module.startswith("mutualis.contracts."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mutualis.contracts."))
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


def test_the_contracts_modules_import_one_another_without_a_cycle():
    sources = [p for p in PACKAGE.rglob("*.py") if "tests" not in p.parts]
    graph = {_module(p): _imports(p) for p in sources}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name not in graph:
            return
        assert name not in visiting, " → ".join([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for imported in sorted(graph[name]):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert "mutualis.contracts.models" in graph
