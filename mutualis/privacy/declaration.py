"""The typed vocabulary of the privacy declaration (privacy as code).

A *purpose* (GDPR art. 5(1)(b)) has a legal basis (art. 6), uses *categories* of data, keeps them
under a *retention rule* and discloses them to *recipients*. Each app maps every field of its
models to a category and to purposes in its own ``privacy.py`` with :func:`declare`; the registry
(:mod:`mutualis.privacy.registry`) collects those declarations, the system checks verify them
against the models, and the policy page, the Art. 30 register, the exports and the retention
engine are all derived from them.

The catalogue of this mutuelle's purposes, categories and recipients is in
:mod:`mutualis.privacy.catalogue`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class LegalBasis(enum.Enum):
    """GDPR art. 6(1) legal bases, with the French wording shown to people."""

    CONSENT = ("a", "votre consentement")
    CONTRACT = (
        "b",
        "l'exécution du contrat ou de mesures précontractuelles prises à votre demande",
    )
    LEGAL_OBLIGATION = (
        "c",
        "le respect d'une obligation légale à laquelle la mutuelle est soumise",
    )
    VITAL_INTEREST = ("d", "la sauvegarde de vos intérêts vitaux")
    PUBLIC_INTEREST = ("e", "l'exécution d'une mission d'intérêt public")
    LEGITIMATE_INTEREST = ("f", "l'intérêt légitime de la mutuelle")

    def __init__(self, letter: str, label: str) -> None:
        self.letter = letter
        self.label = label

    @property
    def article(self) -> str:
        return f"RGPD art. 6(1)({self.letter})"


class Anchor(enum.Enum):
    """The event a retention clock starts from."""

    LAST_CONTACT = "du dernier contact"
    RECEIPT = "de la réception"
    CONTRACT_END = "de la fin du contrat"
    CLOSURE = "de la clôture du dossier"
    PAYMENT_DATE = "de la date du paiement"
    FINANCIAL_YEAR_END = "de la fin de l'exercice comptable"
    LAST_DEBIT = "du dernier prélèvement"
    LAST_LOGIN = "de la dernière connexion"
    COLLECTION = "de la collecte"
    WITHDRAWAL = "du retrait du consentement"
    SENDING = "de l'envoi"
    EXPIRY = "de l'expiration"
    DEPARTURE = "du départ de la personne (désactivation de son compte)"

    @property
    def label(self) -> str:
        return self.value


class EndAction(enum.Enum):
    DELETE = "suppression"
    ANONYMISE = "anonymisation"
    # Raw rows are summed into anonymous aggregates, then deleted (audience statistics).
    AGGREGATE = "agrégation anonyme, puis suppression des données brutes"

    @property
    def label(self) -> str:
        return self.value


class RecipientKind(enum.Enum):
    INTERNAL = "services internes de la mutuelle"
    MANDATORY_SCHEME = "régimes obligatoires d'assurance maladie"
    HEALTH_PROFESSIONAL = "professionnels de santé"
    AUTHORITY = "autorités administratives ou judiciaires, à leur demande et si la loi l'exige"
    PROCESSOR = "sous-traitants agissant sur instruction de la mutuelle (RGPD art. 28)"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Category:
    """A category of personal data (GDPR art. 30(1)(c))."""

    code: str
    label: str
    examples: str
    sensitive: bool = False

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class DataSubjectGroup:
    """A category of data subjects (GDPR art. 30(1)(c))."""

    code: str
    label: str


@dataclass(frozen=True)
class Duration:
    """A duration in calendar months and days (legal durations are counted in months)."""

    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0:
            raise ValueError("a retention duration cannot be negative")

    @classmethod
    def years(cls, n: int) -> Duration:
        return cls(months=12 * n)

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.days == 0

    @property
    def label(self) -> str:
        parts = []
        if self.months:
            if self.months % 12 == 0:
                years = self.months // 12
                parts.append(f"{years} an{'s' if years > 1 else ''}")
            else:
                parts.append(f"{self.months} mois")
        if self.days:
            parts.append(f"{self.days} jour{'s' if self.days > 1 else ''}")
        return " et ".join(parts) or "aucune"


@dataclass(frozen=True)
class RetentionRule:
    """Active stage, then intermediate archive, then deletion or anonymisation (CNIL)."""

    anchor: Anchor
    active: Duration
    archive: Duration
    end_action: EndAction
    source: str
    active_label: str = (
        ""  # e.g. "pendant la durée du contrat", when the active stage is open-ended
    )

    @property
    def summary(self) -> str:
        if self.active_label:
            text = f"Base active : {self.active_label}"
            archive_from = f"à compter {self.anchor.label}"
        else:
            text = f"Base active : {self.active.label} à compter {self.anchor.label}"
            archive_from = "supplémentaires"
        if not self.archive.is_zero:
            text += f" ; archive intermédiaire : {self.archive.label} {archive_from}"
        return f"{text} ; puis {self.end_action.label}."


@dataclass(frozen=True)
class Recipient:
    """A recipient (GDPR art. 4(9)) and the categories it may receive."""

    code: str
    label: str
    kind: RecipientKind
    categories: frozenset[Category]
    detail: str = ""
    # Where the recipient is outside the EU/EEA: the country and the safeguard (GDPR art. 44-49,
    # e.g. "Royaume-Uni, décision d'adéquation"); "" for a recipient in the EU/EEA.
    third_country: str = ""

    @property
    def transfer(self) -> str:
        """The transfer to a third country, as the register and the access copy state it."""
        return f"{self.label} : {self.third_country}" if self.third_country else ""


@dataclass(frozen=True)
class Purpose:
    """A purpose of processing: one entry of the Art. 30 register."""

    code: str
    title: str
    description: str
    policy_section: str
    legal_basis: LegalBasis | None
    legal_basis_detail: str
    categories: frozenset[Category]
    data_subjects: frozenset[DataSubjectGroup]
    retention: RetentionRule | None
    recipients: tuple[Recipient, ...]
    security_measures: tuple[str, ...] = ()
    # A decision based solely on automated processing, profiling included, that the purpose
    # makes about people (GDPR art. 22): its logic and consequences; "" when it makes none.
    automated_decision: str = ""

    def __str__(self) -> str:
        return self.title

    @property
    def sections_label(self) -> str:
        """The policy sections, as a sentence says them: "section 1-B", "sections 1-A et 7"."""
        parts = [p.strip() for p in self.policy_section.split(",") if p.strip()]
        if len(parts) < 2:
            return f"section {self.policy_section}"
        return "sections " + ", ".join(parts[:-1]) + " et " + parts[-1]

    @property
    def transfers(self) -> list[str]:
        return [r.transfer for r in self.recipients if r.third_country]


@dataclass(frozen=True)
class FieldDeclaration:
    """How one model field holds personal data."""

    category: Category
    purposes: frozenset[Purpose]
    provided_by_subject: bool
    encrypted: bool = False
    # Legal obligation that keeps this field after an erasure request (GDPR art. 17(3)(b)(e)),
    # or "" when nothing does.
    kept_for: str = ""


def personal(
    category: Category,
    purposes: Iterable[Purpose],
    *,
    provided: bool,
    encrypted: bool = False,
    kept_for: str = "",
) -> FieldDeclaration:
    """Declare a personal-data field."""
    purposes = frozenset(purposes)
    if not purposes:
        raise ValueError("a personal-data field needs at least one purpose")
    return FieldDeclaration(
        category=category,
        purposes=purposes,
        provided_by_subject=provided,
        encrypted=encrypted,
        kept_for=kept_for,
    )


@dataclass(frozen=True)
class ModelDeclaration:
    """The declaration of one model: every field is personal (mapped) or explicitly not."""

    model: str  # "app_label.ModelName"
    fields: dict[str, FieldDeclaration] = field(default_factory=dict)
    not_personal: frozenset[str] = frozenset()
    holds_personal_data: bool = True
    # Name of the field (or "a__b" path) whose date starts the retention clock.
    retention_anchor: str = ""
    purpose: Purpose | None = None  # the purpose whose retention rule governs the rows
    # Name of the field linking a row to its person (for exports and erasure), "" for none.
    subject_field: str = ""
    module: str = ""  # where it was declared, for error messages
    # A rule of the model's own, when it differs from its purpose's (e.g. e-mails: 3 months).
    retention: RetentionRule | None = None
    # Restricts the rule to some rows (filter keyword arguments), e.g. inbound e-mails only.
    retention_scope: tuple[tuple[str, object], ...] = ()
    # For an "anonymise" end action: the nullable datetime field set once a row is anonymised
    # (so the engine never anonymises twice) and the fields it clears.
    anonymised_field: str = ""
    # Rows with no retention clock of their own that go once nothing refers to them any more
    # (a member without contracts, a person without member, beneficiary or inquiry). Relations
    # that cascade do not keep a row; the others do.
    sweep_unreferenced: bool = False
    # For people: their data key, shredded before the row is deleted (crypto-shredding).
    person_key_field: str = ""
    # A function that ends rows itself (dotted path), for tables that cannot simply be deleted
    # from, such as the hash-chained audit log: ``handler(before=, batch_size=, dry_run=)``
    # returns ``(rows, batches)``.
    retention_handler: str = ""

    def declared_names(self) -> set[str]:
        return set(self.fields) | set(self.not_personal)

    @property
    def retention_rule(self) -> RetentionRule | None:
        if self.retention is not None:
            return self.retention
        return self.purpose.retention if self.purpose else None


@dataclass(frozen=True)
class InternalService:
    """An internal service of the mutuelle (policy section 3): the categories its staff may see.

    Staff roles map one-to-one to these services; the back office shows a staff member only the
    categories of their service.
    """

    code: str
    label: str
    categories: frozenset[Category]
    mission: str


class CookieKind(enum.Enum):
    """Why a cookie may be set without consent (loi 78-17 art. 82; CNIL délib. 2020-091)."""

    NECESSARY = "strictement nécessaire au service demandé"
    AUDIENCE = "mesure d'audience exemptée de consentement"
    CHOICE = "mémorisation de votre choix"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Cookie:
    """A cookie the site sets: the policy (section II) and the cookies page list these, and
    ``privacy_check`` compares what the site really sets with them."""

    name: str
    kind: CookieKind
    purpose: str
    lifetime: str
    # Longest lifetime the site may give it, in seconds; None for a session cookie (gone when
    # the browser closes).
    max_age: int | None
    # The purpose of processing it serves.
    serves: Purpose | None = None


NO_TRANSFER = "aucun : les destinataires sont établis dans l'Union européenne"
NO_AUTOMATED_DECISION = (
    "aucune décision fondée exclusivement sur un traitement automatisé, profilage compris "
    "(RGPD art. 22)"
)
