"""The browser family of a User-Agent, the only thing statistics keep of it (ua-parser)."""

from __future__ import annotations

from functools import lru_cache

import ua_parser

OTHER = "Autre"
ROBOT = "robot"
_FAMILIES = {
    "Chrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Chromium": "Chrome",
    "HeadlessChrome": "Chrome",
    "Firefox": "Firefox",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Safari": "Safari",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Edge": "Edge",
    "Edge Mobile": "Edge",
    "Opera": "Opera",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
}


@lru_cache(maxsize=4096)
def family(user_agent: str) -> str:
    """``Chrome``, ``Firefox``, ``Safari``… ``Autre``, or ``robot`` for a crawler (not counted)."""
    if not user_agent:
        return OTHER
    result = ua_parser.parse(user_agent[:512])
    if result.device is not None and result.device.family == "Spider":
        return ROBOT
    name = result.user_agent.family if result.user_agent is not None else ""
    return _FAMILIES.get(name, OTHER)
