"""Writes about people: creation, rectification of contact details, NIR reveal.

Every function runs in one transaction and records its audit event inside it. Personal values
never go into audit details in clear: a rectification stores the old and new values encrypted
under the person's own data key (so they are shredded with the person).
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from mutualis import audit
from mutualis.members import signals, validators
from mutualis.members.models import (
    Beneficiary,
    Civility,
    Member,
    Person,
    User,
    new_member_number,
)
from mutualis.members.tags import MembersTag
from mutualis.privacy import catalogue, restrictions
from mutualis.vault import services as vault


class NirAlreadyRegistered(Exception):
    """The NIR belongs to another person. Whose it is is never told."""


@dataclass
class PersonData:
    civility: str
    last_name: str
    first_names: str
    birth_date: datetime.date
    nir: str | None = None
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    phone_landline: str = ""
    phone_mobile: str = ""
    scheme_regime: str = ""
    scheme_caisse: str = ""
    scheme_centre: str = ""
    scheme_organisation: str = ""
    extra: dict = field(default_factory=dict)


CONTACT_FIELDS = (
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "email",
    "phone_landline",
    "phone_mobile",
)


def nir_is_registered(nir: str, *, excluding: Person | None = None) -> bool:
    """Exact lookup through the blind index (the NIR is never a join key)."""
    qs = Person.objects.with_nir(nir)
    if excluding is not None:
        qs = qs.exclude(pk=excluding.pk)
    return qs.exists()


def person_values(data: PersonData) -> dict[str, Any]:
    """The person's field values, normalised as every way into the members table stores them
    (the subscription, staff entry, the bulk import)."""
    return {
        "civility": data.civility,
        "last_name": data.last_name.strip(),
        "first_names": data.first_names.strip(),
        "birth_date": data.birth_date,
        "nir": validators.normalize_nir(data.nir) if data.nir else None,
        "email": data.email.strip().lower(),
        "address_line1": data.address_line1.strip(),
        "address_line2": data.address_line2.strip(),
        "postal_code": data.postal_code.strip(),
        "city": data.city.strip(),
        "phone_landline": data.phone_landline,
        "phone_mobile": data.phone_mobile,
        "scheme_regime": data.scheme_regime,
        "scheme_caisse": data.scheme_caisse,
        "scheme_centre": data.scheme_centre,
        "scheme_organisation": data.scheme_organisation.strip(),
    }


def build_person(data: PersonData, *, nir_holder: Person | None = None) -> Person:
    """An unsaved person with a fresh (unsaved) data key, for ``create_person`` and bulk imports."""
    return Person(data_key=vault.build_data_key(), nir_holder=nir_holder, **person_values(data))


def create_person(*, data: PersonData, actor=None, nir_holder: Person | None = None) -> Person:
    with transaction.atomic():
        if data.nir and nir_is_registered(data.nir):
            raise NirAlreadyRegistered
        person = build_person(data, nir_holder=nir_holder)
        person.data_key.save()
        person.save()
        audit.record(MembersTag.PERSON_CREATE, actor=actor, subject=person, target=person)
    return person


def create_member(*, person: Person, actor=None) -> Member:
    with transaction.atomic():
        number = new_member_number()
        while Member.objects.filter(number=number).exists():
            number = new_member_number()
        member = Member.objects.create(person=person, number=number)
        audit.record(MembersTag.MEMBER_CREATE, actor=actor, subject=person, target=member)
    return member


def add_beneficiary(*, member: Member, person: Person, role: str, actor=None) -> Beneficiary:
    with transaction.atomic():
        beneficiary = Beneficiary.objects.create(member=member, person=person, role=role)
        audit.record(
            MembersTag.BENEFICIARY_CREATE,
            actor=actor,
            subject=person,
            target=beneficiary,
            details={"member": str(member.pk), "role": role},
        )
    return beneficiary


def _sealed_for_audit(person: Person, value: str, label: str) -> str:
    blob = vault.encrypt_for(
        person.data_key, value, f"audit:rectification:{person.pk}:{label}".encode()
    )
    return base64.b64encode(blob).decode()


def rectify_contact_details(*, person: Person, changes: dict[str, str], actor=None) -> list[str]:
    """Apply contact-detail changes (GDPR art. 16) and audit each one.

    The audit event carries, per changed field, the old and the new value encrypted under the
    person's data key — provable later, unreadable once the person is erased. Returns the names
    of the fields that changed.
    """
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    with transaction.atomic():
        person = Person.objects.select_for_update().select_related("data_key").get(pk=person.pk)
        changed = {
            name: (getattr(person, name), value)
            for name, value in changes.items()
            if getattr(person, name) != value
        }
        if not changed:
            return []
        for name, (_old, new) in changed.items():
            setattr(person, name, new)
        person.save(update_fields=[*changed, "updated_at"])
        audit.record(
            MembersTag.CONTACT_RECTIFY,
            actor=actor,
            subject=person,
            target=person,
            details={
                "fields": sorted(changed),
                "values": {
                    name: {
                        "old": _sealed_for_audit(person, old, f"{name}:old"),
                        "new": _sealed_for_audit(person, new, f"{name}:new"),
                    }
                    for name, (old, new) in changed.items()
                },
            },
        )
        if "email" in changed and hasattr(person, "member") and person.member.account_id:
            User.objects.filter(pk=person.member.account_id).update(email=changes["email"])
        signals.contact_details_changed.send(
            sender=Person, person=person, fields=frozenset(changed)
        )
    return sorted(changed)


IDENTITY_FIELDS = (
    "civility",
    "last_name",
    "first_names",
    "birth_date",
    "nir",
    "scheme_regime",
    "scheme_caisse",
    "scheme_centre",
    "scheme_organisation",
)


def _audit_text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def rectify_identity(*, person: Person, changes: dict, actor=None) -> list[str]:
    """Apply staff-checked corrections of identity and administrative data (GDPR art. 16).

    Same proof as :func:`rectify_contact_details` (old and new values sealed under the person's
    data key in the audit event). Values are validated: civility, a valid NIR not registered to
    anyone else (whose key, sex and birth date agree), the scheme codes. Returns the changed
    field names. Raises ``ValidationError`` (French message) or :class:`NirAlreadyRegistered`.
    """
    from django.core.exceptions import ValidationError

    unknown = set(changes) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"not identity fields: {sorted(unknown)}")
    with transaction.atomic():
        person = Person.objects.select_for_update().select_related("data_key").get(pk=person.pk)
        cleaned = dict(changes)
        for name in ("last_name", "first_names", "scheme_organisation"):
            if name in cleaned:
                cleaned[name] = str(cleaned[name]).strip()
                if name != "scheme_organisation" and not cleaned[name]:
                    raise ValidationError("Le nom et les prénoms ne peuvent pas être vides.")
        if "civility" in cleaned and cleaned["civility"] not in dict(Civility.choices):
            raise ValidationError("Civilité inconnue.")
        if "birth_date" in cleaned and not isinstance(cleaned["birth_date"], datetime.date):
            cleaned["birth_date"] = datetime.date.fromisoformat(str(cleaned["birth_date"]))
        if any(name in cleaned for name in ("scheme_regime", "scheme_caisse", "scheme_centre")):
            codes = validators.validate_scheme_code(
                cleaned.get("scheme_regime", person.scheme_regime),
                cleaned.get("scheme_caisse", person.scheme_caisse),
                cleaned.get("scheme_centre", person.scheme_centre),
            )
            for name, code in zip(
                ("scheme_regime", "scheme_caisse", "scheme_centre"), codes, strict=True
            ):
                if name in cleaned:
                    cleaned[name] = code
        if cleaned.get("nir"):
            cleaned["nir"] = validators.validate_nir(
                cleaned["nir"],
                birth_date=cleaned.get("birth_date", person.birth_date),
                civility=cleaned.get("civility", person.civility),
            )
            if nir_is_registered(cleaned["nir"], excluding=person):
                raise NirAlreadyRegistered
        changed = {
            name: (getattr(person, name), value)
            for name, value in cleaned.items()
            if getattr(person, name) != value
        }
        if not changed:
            return []
        for name, (_old, new) in changed.items():
            setattr(person, name, new)
        person.save(update_fields=[*changed, "nir_index", "updated_at"])
        audit.record(
            MembersTag.IDENTITY_RECTIFY,
            actor=actor,
            subject=person,
            target=person,
            details={
                "fields": sorted(changed),
                "values": {
                    name: {
                        "old": _sealed_for_audit(person, _audit_text(old), f"{name}:old"),
                        "new": _sealed_for_audit(person, _audit_text(new), f"{name}:new"),
                    }
                    for name, (old, new) in changed.items()
                },
            },
        )
    return sorted(changed)


def close_account(*, account: User, actor=None, reason: str = "") -> None:
    """Close a member's login account for good (erasure once no contract runs, death).

    The account can no longer log in, its address and name are erased and it is detached from
    the member; the retention sweep deletes the row later (an id the audit log names stays
    meaningful until then).
    """
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk)
        person_id = _person_id_of(account)
        Member.objects.filter(account=account).update(account=None)
        account.is_active = False
        account.set_unusable_password()
        account.email = f"compte-ferme-{account.pk}@compte-ferme.invalid"
        account.display_name = ""
        account.last_login = None
        account.save(update_fields=["is_active", "password", "email", "display_name", "last_login"])
        audit.record(
            MembersTag.ACCOUNT_CLOSE,
            actor=actor,
            subject=person_id,
            target=account,
            details={"reason": reason[:100]},
        )


def reveal_nir(*, person: Person, actor, reason: str) -> str:
    """Show a staff member the full NIR: a logged act, with its reason (architecture.md §5)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValueError("Indiquez le motif de la consultation (5 caractères au moins).")
    # A restricted person's NIR is stored, not shown (GDPR art. 18(2)).
    restrictions.ensure_allowed(person, purpose=catalogue.CONTRACT, use=MembersTag.NIR_REVEAL)
    with transaction.atomic():
        audit.record(
            MembersTag.NIR_REVEAL,
            actor=actor,
            subject=person,
            target=person,
            details={"reason": reason[:500]},
        )
    return person.nir


# --- Member-space account: login history and password ------------------------------------
# The policy's "account" category (connection history). Events name the account and the person
# by id; the e-mail typed at a failed login is never recorded (it may be anyone's address).


def _person_id_of(account: User | None):
    if account is None:
        return None
    return Member.objects.filter(account=account).values_list("person_id", flat=True).first()


def record_login(*, account: User) -> None:
    """A successful login to the member space."""
    with transaction.atomic():
        audit.record(
            MembersTag.ACCOUNT_LOGIN,
            actor=account,
            subject=_person_id_of(account),
            target=account,
        )


def record_failed_login(*, account: User | None, reason: str) -> None:
    """A refused login. ``account`` is the account the typed address matched, if any: only its
    id is kept, never the address itself."""
    with transaction.atomic():
        audit.record(
            MembersTag.ACCOUNT_LOGIN_FAILED,
            actor="anonymous",
            subject=_person_id_of(account),
            target=account,
            details={"reason": reason},
        )


def record_logout(*, account: User) -> None:
    with transaction.atomic():
        audit.record(
            MembersTag.ACCOUNT_LOGOUT,
            actor=account,
            subject=_person_id_of(account),
            target=account,
        )


def set_account_password(*, account: User, password: str) -> User:
    """Set the password from an activation or reset link (already validated by the caller's
    form against AUTH_PASSWORD_VALIDATORS).

    The first password of an account is its activation (``members:account:activate``); any later
    one is a reset. Either way the link's token is spent: it is derived from the password hash.
    """
    with transaction.atomic():
        account = User.objects.select_for_update().get(pk=account.pk)
        activation = not account.has_usable_password()
        account.set_password(password)
        account.save(update_fields=["password"])
        audit.record(
            MembersTag.ACCOUNT_ACTIVATE if activation else MembersTag.ACCOUNT_PASSWORD_RESET,
            actor=account,
            subject=_person_id_of(account),
            target=account,
        )
    return account
