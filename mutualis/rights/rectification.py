"""Rectification (GDPR art. 16 and 19): what can be corrected, how requested values are held,
and which recipients received the old values.

- Contact details are corrected at once through ``members.services.rectify_contact_details``;
  identity and administrative data (names, birth date, NIR, scheme) are corrected by staff once
  they have checked the evidence, through ``members.services.rectify_identity``.
- A requested new value of an encrypted field (NIR, birth date) is never stored in clear in the
  request: it is sealed under the person's own data key (and so shredded with the person).
- Art. 19: the recipients that received the person's data in the categories corrected are read
  from the audit's disclosure register; each is told of the correction (an audited step) and the
  person is told who they are.
"""

from __future__ import annotations

import base64
import datetime

from mutualis.audit.models import Disclosure
from mutualis.members.models import Person
from mutualis.members.services import CONTACT_FIELDS, IDENTITY_FIELDS
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import Category, Recipient
from mutualis.recipients.register import visible_to_the_person
from mutualis.rights.export import field_label
from mutualis.vault import services as vault
from mutualis.vault.exceptions import VaultError

RECTIFIABLE = (*CONTACT_FIELDS, *IDENTITY_FIELDS)
SEALED_PREFIX = "sealed:"


def _declaration():
    return registry.get("members.Person")


def label(name: str) -> str:
    model_field = Person._meta.get_field(name)
    text = field_label("members.person", model_field)
    return text[:1].upper() + text[1:]


def is_encrypted(name: str) -> bool:
    return _declaration().fields[name].encrypted


def _aad(person: Person, name: str) -> bytes:
    return f"rights:rectification:{person.pk}:{name}".encode()


def seal_changes(person: Person, changes: dict) -> dict:
    """The requested values as stored in ``RightsRequest.details["changes"]``."""
    stored = {}
    for name, value in changes.items():
        if name not in RECTIFIABLE:
            raise ValueError(f"not a rectifiable field: {name}")
        text = value.isoformat() if isinstance(value, datetime.date) else str(value or "").strip()
        if is_encrypted(name) and text:
            blob = vault.encrypt_for(person.data_key, text, _aad(person, name))
            text = SEALED_PREFIX + base64.b64encode(blob).decode()
        stored[name] = text
    return stored


def unseal_changes(person: Person, stored: dict) -> dict:
    """The requested values in clear (for staff, and to apply them)."""
    values = {}
    for name, text in (stored or {}).items():
        if isinstance(text, str) and text.startswith(SEALED_PREFIX):
            blob = base64.b64decode(text[len(SEALED_PREFIX) :])
            try:
                text = vault.decrypt_for(person.data_key, blob, _aad(person, name)).decode()
            except VaultError:
                text = ""
        values[name] = text
    return values


def split(changes: dict) -> tuple[dict, dict]:
    """(contact changes applied at once, identity changes staff check first)."""
    contact = {k: v for k, v in changes.items() if k in CONTACT_FIELDS}
    identity = {k: v for k, v in changes.items() if k in IDENTITY_FIELDS}
    return contact, identity


def categories_of(names) -> list[Category]:
    declaration = _declaration()
    found = []
    for name in names:
        category = declaration.fields[name].category
        if category not in found:
            found.append(category)
    return found


def recipients_of(person: Person, categories: list[Category]) -> list[Recipient]:
    """Recipients the disclosure register shows received the person's data in ``categories``
    (GDPR art. 19): they must be told of the correction."""
    codes = {c.code for c in categories}
    seen = set()
    # Not those the person may not be told of yet (an authority's secret requisition); the
    # recipients app sends them their notice all the same.
    disclosures = visible_to_the_person(Disclosure.objects.filter(subject_id=str(person.pk)))
    for recipient_code, disclosed in disclosures.values_list("recipient", "categories"):
        if codes & set(disclosed or []):
            seen.add(recipient_code)
    return [r for r in catalogue.ALL_RECIPIENTS if r.code in seen]
