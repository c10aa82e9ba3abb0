"""Writes about people: creation, rectification of contact details, NIR reveal.

Every function runs in one transaction and records its audit event inside it. Personal values
never go into audit details in clear: a rectification stores the old and new values encrypted
under the person's own data key (so they are shredded with the person).
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, field

from django.db import transaction

from mutualis import audit
from mutualis.members import validators
from mutualis.members.models import Beneficiary, Member, Person, User, new_member_number
from mutualis.members.tags import MembersTag
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
    """Exact lookup through the blind index (RULES.md: the NIR is never a join key)."""
    qs = Person.objects.with_nir(nir)
    if excluding is not None:
        qs = qs.exclude(pk=excluding.pk)
    return qs.exists()


def build_person(data: PersonData, *, nir_holder: Person | None = None) -> Person:
    """An unsaved person with a fresh (unsaved) data key, for ``create_person`` and bulk imports."""
    key = vault.build_data_key()
    return Person(
        data_key=key,
        civility=data.civility,
        last_name=data.last_name.strip(),
        first_names=data.first_names.strip(),
        birth_date=data.birth_date,
        nir=validators.normalize_nir(data.nir) if data.nir else None,
        nir_holder=nir_holder,
        email=data.email.strip().lower(),
        address_line1=data.address_line1.strip(),
        address_line2=data.address_line2.strip(),
        postal_code=data.postal_code.strip(),
        city=data.city.strip(),
        phone_landline=data.phone_landline,
        phone_mobile=data.phone_mobile,
        scheme_regime=data.scheme_regime,
        scheme_caisse=data.scheme_caisse,
        scheme_centre=data.scheme_centre,
        scheme_organisation=data.scheme_organisation.strip(),
    )


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
    return sorted(changed)


def reveal_nir(*, person: Person, actor, reason: str) -> str:
    """Show a staff member the full NIR: a logged act, with the reason given (DESIGN.md §5)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValueError("Indiquez le motif de la consultation (5 caractères au moins).")
    with transaction.atomic():
        audit.record(
            MembersTag.NIR_REVEAL,
            actor=actor,
            subject=person,
            target=person,
            details={"reason": reason[:500]},
        )
    return person.nir
