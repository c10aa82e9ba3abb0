"""Checks of the live database against every promise of the policy that can be checked.

Each promise has an identifier (``T1`` … ``T12``), the policy section it makes true and a check.
A check reads the live data and returns a :class:`Finding`: how many rows (or files, or
messages) it looked at, and one line per breach, naming records by id, never by content.
``manage.py privacy_check`` runs them all, prints one line per promise (promise, policy section,
rows checked, breaches) and exits non-zero on any breach.

The promises, and who checks them:

====  =======  ==========================================================  =========================
id    section  promise                                                     registered in
====  =======  ==========================================================  =========================
T1    II       e-mails received: 3 months at most, mailbox and backups     contact/privacy.py
T2    2        no record past its retention stage                          privacy/promise_checks.py
T3    7        complaints acknowledged and answered within ACPR deadlines  contact/privacy.py
T4    5        rights requests answered within their deadline              rights/privacy.py
T5    5        an erased person has nothing readable left anywhere         privacy/promise_checks.py
T6    3        each disclosure within what its recipient is granted        recipients/promises.py
T7    II       cookies and audience statistics within the CNIL exemption   web/privacy.py
T8    1-C, 6   each campaign recipient could receive it when it left       consent/promises.py
T9    5        a restricted person's data is only stored (art. 18)         privacy/promise_checks.py
T10   1-D      no technical log past six months                            privacy/third_party.py
T11   4        the audit log is intact                                     privacy/promise_checks.py
T12   III      the published policy is what the declaration renders        privacy/promise_checks.py
====  =======  ==========================================================  =========================

The ground's own checks are in :mod:`mutualis.privacy.promise_checks` (T10 beside the technical
data it checks, in :mod:`mutualis.privacy.third_party`). An app registers its promise in its
``privacy.py`` (or a module it imports)::

    from mutualis.privacy import promises

    @promises.register("T6", section="3", title="Communications conformes à la déclaration")
    def disclosures_within_declaration(now):
        ...
        return promises.Finding(checked=rows, breaches=[f"{pk} : …" for pk in wrong])
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone


@dataclass(frozen=True)
class Finding:
    """What one check saw: rows checked, and each breach (records named by id)."""

    checked: int
    breaches: list[str] = field(default_factory=list)


Check = Callable[[datetime.datetime], Finding]


@dataclass(frozen=True)
class Promise:
    code: str  # "T1" … "T12"
    section: str  # the section of the policy it makes true
    title: str  # French, as the table prints it
    check: Check

    @property
    def number(self) -> int:
        return int(self.code.lstrip("T"))


@dataclass(frozen=True)
class Result:
    promise: Promise
    checked: int
    breaches: list[str]

    @property
    def ok(self) -> bool:
        return not self.breaches

    def as_dict(self) -> dict:
        return {
            "promise": self.promise.code,
            "title": self.promise.title,
            "section": self.promise.section,
            "checked": self.checked,
            "breaches": list(self.breaches),
        }


_promises: dict[str, Promise] = {}


def register(code: str, *, section: str, title: str) -> Callable[[Check], Check]:
    """Register the check of promise ``code`` (``"T1"`` … ``"T12"``)."""
    if not (code.startswith("T") and code[1:].isdigit()):
        raise ValueError(f"a promise is named T<number>, not {code!r}")

    def decorator(fn: Check) -> Check:
        existing = _promises.get(code)
        if existing is not None and existing.check.__qualname__ != fn.__qualname__:
            raise ValueError(f"promise {code} is registered twice")
        _promises[code] = Promise(code=code, section=section, title=title, check=fn)
        return fn

    return decorator


def registered(only: Iterable[str] | None = None) -> list[Promise]:
    wanted = set(only) if only is not None else None
    return sorted(
        (p for p in _promises.values() if wanted is None or p.code in wanted),
        key=lambda p: p.number,
    )


def run(now: datetime.datetime | None = None, *, only: Iterable[str] | None = None) -> list[Result]:
    """Run every registered check (or those named in ``only``), in promise order."""
    now = now or timezone.now()
    results = []
    for promise in registered(only):
        finding = promise.check(now)
        results.append(Result(promise, finding.checked, list(finding.breaches)))
    return results


def sample(qs: models.QuerySet, n: int = 5) -> str:
    """Up to ``n`` primary keys of ``qs``, for a breach line (ids only, never content)."""
    pks = [str(pk) for pk in qs.order_by("pk").values_list("pk", flat=True)[: n + 1]]
    return ", ".join(pks[:n]) + (" …" if len(pks) > n else "")
