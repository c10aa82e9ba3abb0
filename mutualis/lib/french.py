"""French typography and grammar for text shown to people.

- :func:`de`: the preposition before a name, elided before a vowel or a mute h ("d'Alice",
  "de Dave");
- :func:`plural`: the plural ending French wants (0 and 1 take the singular: "0 demande
  ouverte", "2 demandes ouvertes");
- :func:`typography`: non-breaking spaces before « ? ! : ; » and inside « », so that a line never
  starts with a question mark or a colon. A thin non-breaking space (U+202F) before ? ! ; and a
  non-breaking space (U+00A0) before : and inside guillemets, as French typography has it.
"""

from __future__ import annotations

import re
import unicodedata

NBSP = "\u00a0"
NNBSP = "\u202f"
_VOWELS = set("aeiouyh")


def _starts_with_vowel(text: str) -> bool:
    first = unicodedata.normalize("NFD", text.lstrip()[:1].lower())[:1]
    return first in _VOWELS


def de(text: str) -> str:
    """``"de " + text``, elided to ``"d'"`` before a vowel or an h ("d'Alice", "d'Hélène")."""
    text = str(text or "").strip()
    return f"d'{text}" if _starts_with_vowel(text) else f"de {text}"


def plural(count: int, suffix: str = "s") -> str:
    """The plural ending for ``count`` in French: none for 0 and 1 (unlike English)."""
    try:
        number = abs(int(count))
    except (TypeError, ValueError):
        return ""
    return suffix if number >= 2 else ""


# Regular or already non-breaking spaces before the high punctuation, or none at all before « ; »
# glued to a word, are normalised. ":" glued to a word is left alone (times, URLs, "n°:" …).
_BEFORE_THIN = re.compile(r"[ \u00a0\u202f]+([?!;])")
_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+(:)(?=\s|$)")
_AFTER_OPEN = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSE = re.compile(r"[ \u00a0\u202f]*»")


def typography(text: str) -> str:
    """``text`` with the non-breaking spaces of French typography (see module docstring)."""
    text = _BEFORE_THIN.sub(NNBSP + r"\1", text)
    text = _BEFORE_COLON.sub(NBSP + r"\1", text)
    text = _AFTER_OPEN.sub("«" + NBSP, text)
    return _BEFORE_CLOSE.sub(NBSP + "»", text)


_TAG = re.compile(r"(<[^>]*>)")
_RAW = re.compile(r"<(script|style|pre|textarea|code)\b", re.IGNORECASE)


def typography_html(html: str) -> str:
    """:func:`typography` applied to the text of an HTML page, never inside a tag (attributes,
    URLs) nor inside ``script``, ``style``, ``pre``, ``textarea`` or ``code``."""
    out = []
    raw_until = None
    for part in _TAG.split(html):
        if part.startswith("<"):
            out.append(part)
            if raw_until is None:
                match = _RAW.match(part)
                if match and not part.endswith("/>"):
                    raw_until = f"</{match.group(1).lower()}"
            elif part.lower().startswith(raw_until):
                raw_until = None
            continue
        out.append(part if raw_until is not None or not part.strip() else typography(part))
    return "".join(out)


def plain(text: str) -> str:
    """``text`` with its non-breaking spaces as plain spaces (for comparing wordings)."""
    return text.replace(NBSP, " ").replace(NNBSP, " ")
