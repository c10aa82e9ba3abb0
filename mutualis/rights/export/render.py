"""The access export as JSON text: UTF-8, keys sorted, one line per record, event, disclosure
or declared field, so that a person can read the file as well as a program.

Each line is written by orjson (a C encoder about ten times faster than the standard library's
on these lines); the blocks every export shares (each model's declaration, the general
information) are laid out once per process.
"""

from __future__ import annotations

from itertools import repeat

from orjson import OPT_SORT_KEYS as _SORTED
from orjson import dumps

# Keys whose value is laid out over several lines; anything else is written on one line.
_EXPANDED = frozenset(
    {"audit_log", "categories", "declaration", "fields", "information", "purposes"}
)
# Lists whose items are written one per line.
_LINES = frozenset({"beneficiaries", "disclosures", "events", "notes", "records", "rights"})
_CONTAINERS = frozenset({"records", "fields"})  # an object holding these is laid out too

# Blocks shared by exports (see ``share``): id -> (the block, {depth: its text}).
_SHARED: dict[int, tuple[dict, dict[int, bytes]]] = {}
_KEYS: dict[str, bytes] = {}


def share(block: dict) -> dict:
    """Mark ``block`` as shared by exports and never changed: it is laid out once per depth."""
    _SHARED.setdefault(id(block), (block, {}))
    return block


def render_access_json(export: dict) -> bytes:
    """The export as UTF-8 JSON (see the module docstring)."""
    out: list[bytes] = []
    _object(export, 0, out)
    return b"".join(out)


def _object(value: dict, depth: int, out: list) -> None:
    """Write ``value`` laid out at ``depth`` to ``out`` (a shared block from its cache)."""
    shared = _SHARED.get(id(value))
    if shared is None or shared[0] is not value:
        _layout(value, depth, out)
        return
    text = shared[1].get(depth)
    if text is None:
        chunks: list[bytes] = []
        _layout(value, depth, chunks)
        text = shared[1][depth] = b"".join(chunks)
    out.append(text)


def _layout(value: dict, depth: int, out: list) -> None:
    if not value:
        out.append(b"{}")
        return
    if value.keys() == _CATEGORY and type(value["records"]) is list:
        _category(value, depth, out)
        return
    pads = _pads(depth)
    separator, comma = pads[0]
    for key in sorted(value):
        item = value[key]
        name = _KEYS.get(key)
        if name is None:
            name = _KEYS[key] = dumps(key) + b": "
        out += (separator, name)
        separator = comma
        kind = type(item)
        if kind is list and item and key in _LINES:
            lines = map(dumps, item, repeat(None), repeat(_SORTED))  # (value, default, option)
            out += (pads[1], pads[2].join(lines), pads[3])
        elif kind is list and item and key in _EXPANDED:
            _list(item, depth + 1, out)
        elif kind is dict and item and (key in _EXPANDED or not _CONTAINERS.isdisjoint(item)):
            _object(item, depth + 1, out)
        else:
            out.append(dumps(item, None, _SORTED))
    out.append(pads[4])


# A category of the export: all but its records is the same in every export (see _category).
_CATEGORY = frozenset({"code", "label", "examples", "sensitive", "records"})
_FRAMES: dict[tuple, tuple[bytes, bytes]] = {}


def _category(value: dict, depth: int, out: list) -> None:
    """A category, its records laid out as ``_layout`` does, and what surrounds them as laid
    out the first time (once per process and category, not once per export)."""
    key = (depth, value["code"], value["label"], value["examples"], value["sensitive"])
    frame = _FRAMES.get(key)
    if frame is None:
        chunks: list[bytes] = []
        _layout({**value, "records": None}, depth, chunks)  # the generic layout, a mark inside
        text = b"".join(chunks)
        mark = text.index(b'"records": null') + len(b'"records": ')
        frame = _FRAMES[key] = (text[:mark], text[mark + len(b"null") :])
    records = value["records"]
    out.append(frame[0])
    if records:
        pads = _pads(depth)
        lines = map(dumps, records, repeat(None), repeat(_SORTED))
        out += (pads[1], pads[2].join(lines), pads[3])
    else:
        out.append(b"[]")
    out.append(frame[1])


_PADS: dict[int, tuple] = {}


def _pads(depth: int) -> tuple:
    """What an object at ``depth`` is written with: its first and next key separators, how a
    list of lines opens, separates and closes, and the object's end."""
    found = _PADS.get(depth)
    if found is None:
        pad, inner = b"\n" + b"  " * (depth + 1), b"\n" + b"  " * (depth + 2)
        found = _PADS[depth] = (
            (b"{" + pad, b"," + pad),
            b"[" + inner,
            b"," + inner,
            pad + b"]",
            b"\n" + b"  " * depth + b"}",
        )
    return found


def _list(items: list, depth: int, out: list) -> None:
    pad = b"\n" + b"  " * (depth + 1)
    separator = b"[" + pad
    for item in items:
        out.append(separator)
        separator = b"," + pad
        if type(item) is dict and not _CONTAINERS.isdisjoint(item):
            _object(item, depth + 1, out)
        else:
            out.append(dumps(item, option=_SORTED))
    out += (b"\n", b"  " * depth, b"]")
