"""Organisations and their API keys: registration, keys shown once, rotation, revocation.

A key reads ``mtl_<prefix>_<secret>``: the prefix (10 characters, public, unique) finds the
credential, the secret (43 characters, 256 random bits) proves it. Only the SHA-256 of the whole
key is stored; a key this random needs no slow hash (no dictionary can guess it), and one
lookup plus one comparison keep each API call fast. The key is returned once, to be shown to
the staff member who asked for it, and never again. A rotation issues a new key with the same
scopes and lets the old one live for an overlap, so the organisation can switch without a gap.
Every write is audited in its transaction; audit details never hold a key or a contact's data.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualis import audit
from mutualis.lib.prepared import PreparedQuery
from mutualis.members.validators import validate_phone
from mutualis.recipients import identifiers
from mutualis.recipients.models import (
    IDENTIFIER_TYPES,
    Credential,
    Organisation,
    OrganisationKind,
    Scope,
)
from mutualis.recipients.tags import RecipientsTag

KEY_PREFIX = "mtl"
PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
PREFIX_LENGTH = 10
MAX_OVERLAP = datetime.timedelta(days=90)
# last_used_at is written at most this often per key (one write per call would be a hot row).
LAST_USED_EVERY = datetime.timedelta(minutes=1)


class RecipientsError(ValueError):
    """A write the rules refuse, with a French message for the person who asked."""


def actor_label(actor) -> str:
    """How a record names who acted: ``user:12``, ``organisation:3`` or ``system``."""
    if actor is None:
        return "system"
    if hasattr(actor, "_meta"):
        return f"{actor._meta.model_name}:{actor.pk}"
    return str(actor)


# --- Organisations -------------------------------------------------------------------------
@dataclass
class OrganisationData:
    kind: str
    name: str
    identifier_type: str
    identifier: str = ""
    address: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    rate_limit: int | None = None


def clean_organisation(data: OrganisationData) -> OrganisationData:
    """Validate an organisation's data (French messages, by field) and return it compacted."""
    errors: dict[str, list[str]] = {}
    if data.kind not in OrganisationKind.values:
        errors["kind"] = ["Choisissez la nature de l'organisme."]
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["Indiquez le nom de l'organisme."]
    allowed = IDENTIFIER_TYPES.get(data.kind, ())
    identifier = ""
    if data.kind in OrganisationKind.values and data.identifier_type not in allowed:
        labels = ", ".join(str(identifiers.IdentifierType(t).label) for t in allowed)
        errors["identifier_type"] = [f"Pour cet organisme, l'identifiant est : {labels}."]
    else:
        try:
            identifier = identifiers.validate(data.identifier_type, data.identifier)
        except ValidationError as error:
            errors["identifier"] = error.messages
    email = (data.contact_email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = ["Adresse électronique invalide."]
    phone = (data.contact_phone or "").strip()
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as error:
            errors["contact_phone"] = error.messages
    if data.rate_limit is not None and not 1 <= data.rate_limit <= 100_000:
        errors["rate_limit"] = ["La limite est comprise entre 1 et 100 000 requêtes par minute."]
    if errors:
        raise ValidationError(errors)
    return OrganisationData(
        kind=data.kind,
        name=name[:200],
        identifier_type=data.identifier_type,
        identifier=identifier,
        address=(data.address or "").strip(),
        contact_name=(data.contact_name or "").strip()[:150],
        contact_email=email,
        contact_phone=phone,
        rate_limit=data.rate_limit,
    )


def _identifier_taken() -> ValidationError:
    return ValidationError(
        {"identifier": ["Un organisme est déjà enregistré avec cet identifiant."]}
    )


def register_organisation(*, data: OrganisationData, actor) -> Organisation:
    """Register an outside recipient (policy section 3); its kind fixes what it may receive."""
    data = clean_organisation(data)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(**vars(data))
            audit.record(
                RecipientsTag.ORGANISATION_CREATE,
                actor=actor,
                target=organisation,
                details={"kind": data.kind, "identifier_type": data.identifier_type},
            )
    except IntegrityError:
        raise _identifier_taken() from None
    return organisation


def update_organisation(
    *, organisation: Organisation, data: OrganisationData, actor
) -> Organisation:
    """Change an organisation's details; its kind never changes (it fixed its disclosures)."""
    if data.kind != organisation.kind:
        raise ValidationError({"kind": ["La nature d'un organisme ne change pas."]})
    data = clean_organisation(data)
    changed = sorted(k for k, v in vars(data).items() if getattr(organisation, k) != v)
    if not changed:
        return organisation
    try:
        with transaction.atomic():
            for name in changed:
                setattr(organisation, name, getattr(data, name))
            organisation.save(update_fields=changed)
            audit.record(
                RecipientsTag.ORGANISATION_UPDATE,
                actor=actor,
                target=organisation,
                details={"fields": changed},
            )
    except IntegrityError:
        raise _identifier_taken() from None
    return organisation


def set_active(*, organisation: Organisation, active: bool, actor) -> Organisation:
    """Suspend (or restore) an organisation: while suspended, none of its keys work."""
    with transaction.atomic():
        organisation.is_active = active
        organisation.save(update_fields=["is_active"])
        audit.record(
            RecipientsTag.ORGANISATION_UPDATE,
            actor=actor,
            target=organisation,
            details={"fields": ["is_active"], "active": active},
        )
    return organisation


# --- API keys ------------------------------------------------------------------------------
def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def _scopes(scopes) -> list[str]:
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in Scope.values for scope in chosen):
        raise RecipientsError("Choisissez au moins un droit parmi ceux proposés.")
    return chosen


def _create_key(*, organisation, scopes, label, actor, expires_at, replaces=None) -> tuple:
    prefix, key = _new_key()
    credential = Credential.objects.create(
        organisation=organisation,
        label=(label or "").strip()[:100],
        prefix=prefix,
        secret_hash=hash_key(key),
        scopes=scopes,
        created_by=actor_label(actor),
        expires_at=expires_at,
        replaces=replaces,
    )
    return credential, key


def issue_key(
    *,
    organisation: Organisation,
    scopes,
    actor,
    label: str = "",
    expires_at: datetime.datetime | None = None,
) -> tuple[Credential, str]:
    """A new API key for ``organisation``: ``(credential, key)``, the key to be shown once."""
    if organisation.kind not in _API_KINDS:
        raise RecipientsError(
            "Seuls les professionnels de santé utilisent l'API : les régimes obligatoires "
            "reçoivent un fichier d'échange, les autorités un export."
        )
    if not organisation.is_active:
        raise RecipientsError("Cet organisme est suspendu : réactivez-le d'abord.")
    if expires_at is not None and expires_at <= timezone.now():
        raise RecipientsError("La date d'expiration doit être dans le futur.")
    scopes = _scopes(scopes)
    with transaction.atomic():
        credential, key = _create_key(
            organisation=organisation,
            scopes=scopes,
            label=label,
            actor=actor,
            expires_at=expires_at,
        )
        audit.record(
            RecipientsTag.CREDENTIAL_CREATE,
            actor=actor,
            target=credential,
            details={
                "organisation": organisation.pk,
                "scopes": scopes,
                "prefix": credential.prefix,
            },
        )
    return credential, key


def rotate_key(
    *, credential: Credential, overlap: datetime.timedelta, actor
) -> tuple[Credential, str]:
    """Replace a key: the new one works at once, the old one until ``now + overlap``."""
    if overlap < datetime.timedelta(0) or overlap > MAX_OVERLAP:
        raise RecipientsError("Le chevauchement est compris entre 0 et 90 jours.")
    now = timezone.now()
    with transaction.atomic():
        old = (
            Credential.objects.select_for_update()
            .select_related("organisation")
            .get(pk=credential.pk)
        )
        if old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
            raise RecipientsError("Cette clé n'est plus valide : créez-en une nouvelle.")
        if Credential.objects.filter(replaces=old).exists():
            raise RecipientsError("Cette clé a déjà été remplacée.")
        if not old.organisation.is_active:
            raise RecipientsError("Cet organisme est suspendu : réactivez-le d'abord.")
        end = now + overlap
        old.expires_at = min(old.expires_at, end) if old.expires_at else end
        old.save(update_fields=["expires_at"])
        new, key = _create_key(
            organisation=old.organisation,
            scopes=old.scopes,
            label=old.label,
            actor=actor,
            expires_at=None,
            replaces=old,
        )
        audit.record(
            RecipientsTag.CREDENTIAL_ROTATE,
            actor=actor,
            target=new,
            details={
                "organisation": old.organisation_id,
                "replaces": old.prefix,
                "prefix": new.prefix,
                "old_expires_at": old.expires_at.isoformat(),
            },
        )
    return new, key


def revoke_key(*, credential: Credential, actor) -> Credential:
    """Stop a key at once (idempotent)."""
    with transaction.atomic():
        credential = Credential.objects.select_for_update().get(pk=credential.pk)
        if credential.revoked_at is not None:
            return credential
        credential.revoked_at = timezone.now()
        credential.revoked_by = actor_label(actor)
        credential.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            RecipientsTag.CREDENTIAL_REVOKE,
            actor=actor,
            target=credential,
            details={"organisation": credential.organisation_id, "prefix": credential.prefix},
        )
    return credential


_API_KINDS = frozenset(
    kind
    for kind in OrganisationKind.values
    if kind not in (OrganisationKind.SCHEME, OrganisationKind.AUTHORITY)
)


class KeyRefusal:
    """Why a key was refused (the security log's detail: never the key itself)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUSPENDED = "organisation_suspended"


@dataclass(frozen=True)
class Authentication:
    credential: Credential | None
    refusal: str = ""


# Every request of the partners' API runs it: compiled once (mutualis.lib.prepared).
_CREDENTIAL_BY_PREFIX = PreparedQuery(
    lambda prefix: (
        Credential.objects.select_related("organisation").filter(prefix=prefix).order_by("pk")[:1]
    )
)


def authenticate(key: str, *, now: datetime.datetime | None = None) -> Authentication:
    """The credential ``key`` proves, or why it is refused. Compares in constant time."""
    now = now or timezone.now()
    if not key:
        return Authentication(None, KeyRefusal.MISSING)
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return Authentication(None, KeyRefusal.MALFORMED)
    found = _CREDENTIAL_BY_PREFIX(parts[1])
    credential = found[0] if found else None
    if credential is None or not hmac.compare_digest(credential.secret_hash, hash_key(key)):
        return Authentication(None, KeyRefusal.UNKNOWN)
    if credential.revoked_at is not None:
        return Authentication(credential, KeyRefusal.REVOKED)
    if credential.expires_at is not None and credential.expires_at <= now:
        return Authentication(credential, KeyRefusal.EXPIRED)
    if not credential.organisation.is_active:
        return Authentication(credential, KeyRefusal.SUSPENDED)
    if credential.last_used_at is None or credential.last_used_at < now - LAST_USED_EVERY:
        Credential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return Authentication(credential)
