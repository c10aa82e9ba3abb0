"""axe-core in the real Chromium of the browser tests: WCAG 2.1 A and AA rules.

axe-core comes from npm, pinned, installed into ``var/npm`` by ``make axe`` (``make test`` and
``.ci/run`` run it); it is evaluated in the page through the DevTools protocol, which the
page's Content-Security-Policy does not govern, so the policy stays as strict as in
production.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("MUTUALIS_AXE", ROOT / "var/npm/node_modules/axe-core/axe.min.js"))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    return AXE.read_text()


def violations(page) -> list[dict]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


# Keyboard use: nothing takes the focus out of the document's order, nothing interactive is
# kept out of it, and the first Tab reaches the skip link.
KEYBOARD_PROBLEMS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('[tabindex]')) {
    if (el.tabIndex > 0) problems.push('positive tabindex: ' + el.outerHTML.slice(0, 80));
  }
  const interactive = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(interactive)) {
    const shown = el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    // A trap for robots is hidden from people too (aria-hidden): it is meant to be unreachable.
    if (shown && !el.disabled && el.tabIndex < 0 && !el.closest('[aria-hidden="true"]')) {
      problems.push('unreachable by keyboard: ' + el.outerHTML.slice(0, 80));
    }
  }
  return problems;
}"""


# Scrolling regions (WCAG 1.4.10 reflow, 2.1.1 keyboard): every element that scrolls sideways
# is a region (role, name) that takes the focus; every ``.table-scroll`` is one, whether it
# scrolls at this width or not. ``overflowing``: the indices of the ``.table-scroll`` regions
# that do scroll now; ``pageScrolls``: the page itself is wider than the window.
SCROLL_REGIONS = """() => {
  const problems = [];
  const describe = el => el.outerHTML.slice(0, 80);
  const named = el => {
    const ids = (el.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
    const text = ids.map(id => (document.getElementById(id)?.textContent || '').trim()).join('');
    return Boolean(text || (el.getAttribute('aria-label') || '').trim());
  };
  const focusableRegion = el => el.getAttribute('role') === 'region' &&
    el.getAttribute('tabindex') === '0' && named(el);
  const regions = [...document.querySelectorAll('.table-scroll')];
  for (const el of regions) {
    if (!focusableRegion(el)) problems.push('not a focusable, named region: ' + describe(el));
  }
  for (const el of document.querySelectorAll('body *')) {
    const overflow = getComputedStyle(el).overflowX;
    const scrolls = ['auto', 'scroll'].includes(overflow) && el.scrollWidth > el.clientWidth;
    if (scrolls && !focusableRegion(el)) {
      problems.push('scrolls sideways out of keyboard reach: ' + describe(el));
    }
  }
  const root = document.documentElement;
  return {
    problems,
    overflowing: regions.map((el, i) => el.scrollWidth > el.clientWidth ? i : -1)
      .filter(i => i >= 0),
    pageScrolls: root.scrollWidth > root.clientWidth,
  };
}"""
