"""The scope of an authority's requisition: exactly the people it names, exactly the categories
it asks for (policy section 3: "à leur demande, si la règlementation en vigueur l'exige").

- **Designation** (:func:`designate`): staff name each person on a line, by member number; a
  beneficiary of a member's contracts (a spouse, a child) by the member's number followed by
  their birth date, and by their first name too when twins share it. Never by NIR.
- **Description** (:func:`describe`): how the register shows each person named (their member
  number, or whose beneficiary they are), never their data.
- **Document** (:func:`document`): one person's data for the authority, cut from the access
  copy's walk of the declaration. Only that person's own records — a member's copy also shows
  the records of the beneficiaries of their contracts, which go to the authority only if the
  requisition names those beneficiaries, in their own document and their own disclosure; only
  the categories asked for; the person's name only when identity is asked for; a value that
  points at another personal record (another person, an account) withheld, since it would name
  someone or something outside the scope; and, of the declaration, only the fields given.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.apps import apps

from mutualis.members.models import Beneficiary, Member, Person
from mutualis.privacy import catalogue, registry
from mutualis.recipients.models_requisitions import RequisitionSubject
from mutualis.recipients.services import RecipientsError
from mutualis.vault.exceptions import VaultError

MAX_LINES = 500
WITHHELD = "[non communiqué : renvoie à des données personnelles hors du champ de la réquisition]"
_NUMBER = re.compile(r"[A-Z]\d{9}")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def _date(text: str) -> datetime.date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _plain(text: str) -> str:
    """A first name as compared: case, accents and hyphens ignored."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("-", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _born(person: Person) -> datetime.date | None:
    try:
        return person.birth_date
    except VaultError:
        return None


def _beneficiary(member: Member, born: datetime.date, first_name: str) -> Person | str:
    """The beneficiary of ``member`` born on ``born`` (and so named), or why none can be."""
    beneficiaries = member.beneficiaries.select_related("person__data_key")
    found = [b.person for b in beneficiaries if _born(b.person) == born]
    if first_name:
        wanted = _plain(first_name)
        found = [
            p
            for p in found
            if wanted == _plain(p.first_names) or wanted in _plain(p.first_names).split()
        ]
    if not found:
        return f"aucun bénéficiaire de l'adhérent n° {member.number} ne correspond"
    if len(found) > 1:
        return (
            f"plusieurs bénéficiaires de l'adhérent n° {member.number} sont nés ce jour-là : "
            "ajoutez le prénom après la date"
        )
    return found[0]


def designate(text: str) -> list[Person]:
    """The people a requisition names, one per line (see the module); raises
    :class:`RecipientsError` naming each line that designates no one, or not one person."""
    lines = [line.split() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise RecipientsError("Indiquez au moins une personne visée.")
    if len(lines) > MAX_LINES:
        raise RecipientsError(f"Une réquisition vise {MAX_LINES} personnes au plus.")
    numbers = {parts[0].upper() for parts in lines}
    members = {
        m.number: m for m in Member.objects.filter(number__in=numbers).select_related("person")
    }
    people: list[Person] = []
    errors: list[str] = []
    for index, parts in enumerate(lines, start=1):
        number = parts[0].upper()
        if not _NUMBER.fullmatch(number):
            errors.append(
                f"ligne {index} : un numéro d'adhérent est une lettre suivie de 9 chiffres"
            )
            continue
        member = members.get(number)
        if member is None:
            errors.append(f"ligne {index} : numéro d'adhérent {number} inconnu")
            continue
        if len(parts) == 1:
            people.append(member.person)
            continue
        born = _date(parts[1])
        if born is None:
            errors.append(
                f"ligne {index} : après le numéro, la date de naissance du bénéficiaire "
                "(JJ/MM/AAAA)"
            )
            continue
        found = _beneficiary(member, born, " ".join(parts[2:]))
        if isinstance(found, str):
            errors.append(f"ligne {index} : {found}")
        else:
            people.append(found)
    if errors:
        message = " ; ".join(errors)
        raise RecipientsError(message[:1].upper() + message[1:] + ".")
    return list({person.pk: person for person in people}.values())


def describe(subjects: list[RequisitionSubject]) -> dict[str, str]:
    """How the register names each person of a requisition: by member number, or as the
    beneficiary of a member (with their relationship); an erased person by nothing."""
    ids = [s.subject_id for s in subjects]
    names = {
        str(person_id): f"adhérent n° {number}"
        for person_id, number in Member.objects.filter(person_id__in=ids).values_list(
            "person_id", "number"
        )
    }
    beneficiaries = Beneficiary.objects.filter(person_id__in=ids).select_related("member")
    for beneficiary in beneficiaries:
        names.setdefault(
            str(beneficiary.person_id),
            f"bénéficiaire ({beneficiary.get_role_display().lower()}) de l'adhérent n° "
            f"{beneficiary.member.number}",
        )
    return {s.subject_id: names.get(s.subject_id, "personne effacée depuis") for s in subjects}


def _names_other_records(model_code: str, field_name: str) -> bool:
    """Whether a field's value, in the access copy, names another personal record (a relation
    to a person, a beneficiary, an account…) rather than a plain value or a catalogue row."""
    try:
        model_field = apps.get_model(model_code)._meta.get_field(field_name)
    except LookupError:
        return True
    if not model_field.is_relation or model_field.related_model is None:
        return False
    declaration = registry.get(model_field.related_model._meta.label_lower)
    return declaration is not None and declaration.holds_personal_data


def _record(record: dict) -> dict:
    values = {
        name: WITHHELD if _names_other_records(record["model_code"], name) else value
        for name, value in record["values"].items()
    }
    return {
        "model_code": record["model_code"],
        "record_id": record["record_id"],
        "values": values,
        "erased": record.get("erased", []),
    }


def document(*, categories: list[str], rank: int, copy: dict) -> dict:
    """One person's data for the authority, from their access copy ``copy`` (see the module):
    ``rank`` is their place among the people the requisition names."""
    asked = set(categories)
    given = []
    for category in copy["categories"]:
        if category["code"] not in asked:
            continue
        records = [_record(r) for r in category["records"] if not r.get("held_under_your_contract")]
        if records:
            given.append(
                {**{k: v for k, v in category.items() if k != "records"}, "records": records}
            )
    fields: dict[str, set[str]] = {}
    for category in given:
        for record in category["records"]:
            fields.setdefault(record["model_code"], set()).update(record["values"])
    declaration = {}
    for code, names in fields.items():
        information = copy["declaration"].get(code, {})
        declaration[code] = {
            "model": information.get("model", code),
            "fields": {
                name: info for name, info in information.get("fields", {}).items() if name in names
            },
        }
    person: dict = {"rang": rank}
    if catalogue.IDENTITY.code in asked:
        person["nom"] = copy["subject"]["name"]
    return {"personne": person, "categories": given, "declaration": declaration}
