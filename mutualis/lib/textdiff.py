"""What changed between two versions of a published text (the policy, the terms of use).

The HTML of each version is reduced to its blocks of text — headings, paragraphs, list items,
table rows — and the blocks are compared with :mod:`difflib`: a reader sees which passages were
added, removed or reworded, not a diff of markup.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = {"h1", "h2", "h3", "h4", "p", "li", "tr", "dt", "dd", "caption", "td", "th"}
_ROW_CELLS = {"td", "th"}


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._stack: list[list[str]] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "tr":
            self._row = []
        elif tag in _BLOCKS:
            self._stack.append([])

    def handle_endtag(self, tag) -> None:
        if tag == "tr" and self._row is not None:
            self._add(" — ".join(cell for cell in self._row if cell))
            self._row = None
        elif tag in _BLOCKS and self._stack:
            text = " ".join("".join(self._stack.pop()).split())
            if tag in _ROW_CELLS and self._row is not None:
                self._row.append(text)
            else:
                self._add(text)

    def handle_data(self, data) -> None:
        if self._stack:
            self._stack[-1].append(data)

    def _add(self, text: str) -> None:
        if text:
            self.blocks.append(text)


def blocks(html: str) -> list[str]:
    parser = _Blocks()
    parser.feed(html or "")
    parser.close()
    return parser.blocks


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed"
    before: str = ""
    after: str = ""

    @property
    def label(self) -> str:
        return {"added": "Ajouté", "removed": "Supprimé", "changed": "Modifié"}[self.kind]


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def as_text(self) -> str:
        """The changes as plain French text (e-mails)."""
        lines = []
        for change in self.changes:
            if change.kind == "added":
                lines.append(f"+ Ajouté : {change.after}")
            elif change.kind == "removed":
                lines.append(f"- Supprimé : {change.before}")
            else:
                lines.append(f"~ Avant : {change.before}")
                lines.append(f"  Désormais : {change.after}")
        return "\n".join(lines) or "Aucun changement de texte."


def compare(before_html: str, after_html: str) -> Diff:
    before, after = blocks(before_html), blocks(after_html)
    diff = Diff()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        old, new = before[i1:i2], after[j1:j2]
        paired = min(len(old), len(new)) if op == "replace" else 0
        for k in range(paired):
            diff.changes.append(Change("changed", old[k], new[k]))
        diff.changes += [Change("removed", before=text) for text in old[paired:]]
        diff.changes += [Change("added", after=text) for text in new[paired:]]
    return diff
