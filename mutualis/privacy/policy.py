"""The privacy policy and the Art. 30 register, derived from the declaration.

One function, :func:`processing_entries`, turns the catalogue and the field registry into plain
entries; the policy page, the register (md, csv, html) and their tests all read those entries, so
the page and the register cannot say different things.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from mutualis import audit
from mutualis.audit.tags import Tag
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import (
    NO_AUTOMATED_DECISION,
    NO_TRANSFER,
    Purpose,
    RetentionRule,
)
from mutualis.privacy.models import PolicyVersion


class PrivacyTag(Tag):
    POLICY_PUBLISH = "privacy:policy:publish"


CNIL = {
    "name": "Commission nationale de l'informatique et des libertés (CNIL)",
    "address": "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07",
    "phone": "01 53 73 22 22",
    "url": "https://www.cnil.fr/fr/plaintes",
}

# The policy's own promise (section II): e-mails sent to the mutuelle are kept while they are
# processed, three months at most (every copy included: see catalogue.INBOUND_EMAIL_PROMISE).
INBOUND_EMAIL_RETENTION_MONTHS = catalogue.INBOUND_EMAIL_PROMISE.months


@dataclass(frozen=True)
class DeclaredField:
    model: str
    field: str
    category: str
    provided: bool
    encrypted: bool


@dataclass(frozen=True)
class ProcessingEntry:
    """One purpose, as the register and the policy present it."""

    purpose: Purpose
    legal_basis: str
    categories: list[str]
    data_subjects: list[str]
    recipients: list[str]
    transfers: str  # to third countries (art. 30(1)(e))
    automated_decision: str  # art. 22
    retention: str
    retention_source: str
    security_measures: list[str]
    fields: list[DeclaredField]

    @property
    def code(self) -> str:
        return self.purpose.code


def _retention_text(rule: RetentionRule | None) -> str:
    return rule.summary if rule else ""


def processing_entries() -> list[ProcessingEntry]:
    fields_by_purpose: dict[str, list[DeclaredField]] = {p.code: [] for p in catalogue.ALL_PURPOSES}
    for declaration in registry.all_declarations():
        for name, decl in sorted(declaration.fields.items()):
            for purpose in decl.purposes:
                fields_by_purpose.setdefault(purpose.code, []).append(
                    DeclaredField(
                        model=declaration.model,
                        field=name,
                        category=decl.category.label,
                        provided=decl.provided_by_subject,
                        encrypted=decl.encrypted,
                    )
                )
    entries = []
    for purpose in catalogue.ALL_PURPOSES:
        basis = purpose.legal_basis
        entries.append(
            ProcessingEntry(
                purpose=purpose,
                legal_basis=f"{basis.label} ({basis.article}) : {purpose.legal_basis_detail}"
                if basis
                else "",
                categories=sorted(c.label for c in purpose.categories),
                data_subjects=sorted(s.label for s in purpose.data_subjects),
                recipients=[r.label for r in purpose.recipients],
                transfers=" ; ".join(purpose.transfers) or NO_TRANSFER,
                automated_decision=purpose.automated_decision or NO_AUTOMATED_DECISION,
                retention=_retention_text(purpose.retention),
                retention_source=purpose.retention.source if purpose.retention else "",
                security_measures=list(purpose.security_measures),
                fields=fields_by_purpose.get(purpose.code, []),
            )
        )
    return entries


def policy_context() -> dict:
    return {
        "entries": processing_entries(),
        "categories": catalogue.ALL_CATEGORIES,
        "recipients": catalogue.ALL_RECIPIENTS,
        "security_measures": catalogue.SECURITY_MEASURES,
        "organisation": settings.MUTUALIS_ORGANISATION,
        "cnil": CNIL,
        "email_retention_months": INBOUND_EMAIL_RETENTION_MONTHS,
        "cookies": catalogue.declared_cookies(),
        "audience": catalogue.AUDIENCE_STATISTICS,
    }


def render_policy_body() -> str:
    return render_to_string("privacy/policy_body.html", policy_context())


def publish(effective_date: datetime.date | None = None) -> tuple[PolicyVersion, bool]:
    """Publish the policy generated from the current declaration.

    Returns ``(version, created)``. Publishing text identical to the latest version creates
    nothing, so the command is idempotent; an earlier version is never modified.
    """
    effective_date = effective_date or timezone.localdate()
    body = render_policy_body()
    digest = hashlib.sha256(body.encode()).hexdigest()
    latest = PolicyVersion.objects.published().first()
    if latest is not None and latest.content_hash == digest:
        return latest, False
    if latest is not None and effective_date <= latest.effective_date:
        raise ValueError(
            f"La date d'effet doit suivre celle de la version en vigueur "
            f"({latest.effective_date:%d/%m/%Y})."
        )
    try:
        with transaction.atomic():
            version = PolicyVersion.objects.create(
                effective_date=effective_date, content_hash=digest, body_html=body
            )
            audit.record(
                PrivacyTag.POLICY_PUBLISH,
                target=version,
                details={"effective_date": effective_date.isoformat(), "content_hash": digest},
            )
    except IntegrityError:
        raise ValueError(f"Une version datée du {effective_date:%d/%m/%Y} existe déjà.") from None
    return version, True


def current_version() -> PolicyVersion | None:
    return PolicyVersion.objects.published().first()
