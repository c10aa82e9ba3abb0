"""The steps of the online subscription and the state of one visitor's draft.

The draft's payload (encrypted at rest, see :mod:`mutualis.contracts.drafts`) is a JSON object::

    {"steps": {"identity": {...}, "contact": {...}, "scheme": {...},
               "beneficiaries": [{...}, ...], "payment": {...}, "offer": {...},
               "acceptance": {...}},
     "completed": ["identity", ...],
     "pending": {"identity.nir": "...", ...}}

``pending`` keeps a NIR or an IBAN that was valid in a form sent back for another reason, so the
visitor does not type it again and the page never has to show it back.

Every rule is checked by :func:`mutualis.contracts.application.check_application`, the single
place for subscription rules: a step builds the application the draft would give with the step's
new values, and keeps the problems that concern its own fields.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from mutualis.contracts.application import (
    Application,
    BeneficiaryApplication,
    CommunicationChoice,
    PaymentApplication,
    Problem,
    check_application,
)
from mutualis.contracts.models import SubscriptionDraft
from mutualis.members.services import PersonData


@dataclass(frozen=True)
class Step:
    slug: str  # in the URL
    key: str  # in the payload
    title: str

    @property
    def url(self) -> str:
        return reverse("web:subscription:step", args=[self.slug])


IDENTITY = Step("identite", "identity", "Votre identité")
CONTACT = Step("coordonnees", "contact", "Vos coordonnées")
SCHEME = Step("regime-obligatoire", "scheme", "Votre régime obligatoire")
BENEFICIARIES = Step("beneficiaires", "beneficiaries", "Les personnes à couvrir")
PAYMENT = Step("paiement", "payment", "Le paiement des cotisations")
OFFER = Step("formule", "offer", "Votre formule")
ACCEPTANCE = Step("conditions", "acceptance", "Conditions et confidentialité")
SUMMARY = Step("recapitulatif", "summary", "Récapitulatif")

STEPS = (IDENTITY, CONTACT, SCHEME, BENEFICIARIES, PAYMENT, OFFER, ACCEPTANCE, SUMMARY)
BY_SLUG = {step.slug: step for step in STEPS}

# Which step owns a problem reported by check_application (Problem.field prefix).
_PROBLEM_STEPS = {
    "member.civility": IDENTITY,
    "member.last_name": IDENTITY,
    "member.first_names": IDENTITY,
    "member.birth_date": IDENTITY,
    "member.nir": IDENTITY,
    "member.scheme": SCHEME,
    "member": CONTACT,  # the remaining member.* fields are contact details
    "beneficiaries": BENEFICIARIES,
    "payment": PAYMENT,
    "offer": OFFER,
    "start_date": OFFER,
    "acceptance": ACCEPTANCE,
}


def step_of_problem(problem: Problem) -> Step:
    field = problem.field
    for prefix, step in _PROBLEM_STEPS.items():
        if field == prefix or field.startswith((prefix + ".", prefix + "[")):
            return step
    return SUMMARY


def beneficiary_index_of(problem: Problem) -> int | None:
    """``beneficiaries[2].nir`` → 2 (1-based, as check_application counts)."""
    field = problem.field
    if field.startswith("beneficiaries[") and "]" in field:
        number = field[len("beneficiaries[") : field.index("]")]
        if number.isdecimal():
            return int(number)
    return None


def parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def text_of(values: dict, name: str) -> str:
    value = values.get(name)
    return value if isinstance(value, str) else ""


def member_data(steps: dict[str, Any]) -> PersonData:
    identity = steps.get("identity") or {}
    contact = steps.get("contact") or {}
    scheme = steps.get("scheme") or {}
    return PersonData(
        civility=text_of(identity, "civility"),
        last_name=text_of(identity, "last_name"),
        first_names=text_of(identity, "first_names"),
        birth_date=parse_date(identity.get("birth_date")),  # type: ignore[arg-type]
        nir=text_of(identity, "nir") or None,
        email=text_of(contact, "email"),
        address_line1=text_of(contact, "address_line1"),
        address_line2=text_of(contact, "address_line2"),
        postal_code=text_of(contact, "postal_code"),
        city=text_of(contact, "city"),
        phone_landline=text_of(contact, "phone_landline"),
        phone_mobile=text_of(contact, "phone_mobile"),
        scheme_regime=text_of(scheme, "regime"),
        scheme_caisse=text_of(scheme, "caisse"),
        scheme_centre=text_of(scheme, "centre"),
        scheme_organisation=text_of(scheme, "organisation"),
    )


def beneficiary_data(values: dict[str, Any]) -> BeneficiaryApplication:
    attached = bool(values.get("attached"))
    return BeneficiaryApplication(
        role=text_of(values, "role"),
        person=PersonData(
            civility=text_of(values, "civility"),
            last_name=text_of(values, "last_name"),
            first_names=text_of(values, "first_names"),
            birth_date=parse_date(values.get("birth_date")),  # type: ignore[arg-type]
            nir=text_of(values, "nir") or None,
        ),
        attached_to_member_nir=attached,
    )


def build_application(data: dict[str, Any]) -> Application:
    """The application a payload gives; missing steps give empty values (reported as problems)."""
    steps = data.get("steps") or {}
    payment = steps.get("payment") or {}
    offer = steps.get("offer") or {}
    acceptance = steps.get("acceptance") or {}
    policy_id = acceptance.get("policy_version_id")
    return Application(
        member=member_data(steps),
        offer_code=text_of(offer, "offer_code"),
        start_date=parse_date(offer.get("start_date")) or timezone.localdate(),
        payment=PaymentApplication(
            iban=text_of(payment, "iban"),
            bic=text_of(payment, "bic"),
            debtor_name=text_of(payment, "debtor_name"),
            signed_place=text_of(payment, "signed_place"),
        ),
        beneficiaries=[
            beneficiary_data(b) for b in steps.get("beneficiaries") or [] if isinstance(b, dict)
        ],
        cgu_version=text_of(acceptance, "cgu_version"),
        policy_version_id=policy_id if isinstance(policy_id, int) else None,
        communication=communication_choices(steps.get("contact") or {}),
    )


def communication_choices(contact: dict[str, Any]) -> list[CommunicationChoice]:
    """The communications ticked at the contact step (``contact.communication``)."""
    items = contact.get("communication")
    if not isinstance(items, list):
        return []
    choices = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("topic"), str):
            notice = item.get("notice")
            choices.append(
                CommunicationChoice(
                    topic=item["topic"],
                    channel=text_of(item, "channel"),
                    notice_id=notice if isinstance(notice, int) else None,
                )
            )
    return choices


class Wizard:
    """One visitor's progress: the draft and its decoded payload."""

    def __init__(self, draft: SubscriptionDraft) -> None:
        self.draft = draft
        data = draft.data
        steps = data.get("steps")
        completed = data.get("completed")
        pending = data.get("pending")
        self.data: dict[str, Any] = {
            "steps": steps if isinstance(steps, dict) else {},
            "completed": [c for c in completed if isinstance(c, str)]
            if isinstance(completed, list)
            else [],
            "pending": pending if isinstance(pending, dict) else {},
        }

    # --- Reading ----------------------------------------------------------------------------
    @property
    def steps(self) -> dict[str, Any]:
        return self.data["steps"]

    def values(self, step: Step) -> dict[str, Any]:
        values = self.steps.get(step.key)
        return values if isinstance(values, dict) else {}

    @property
    def beneficiaries(self) -> list[dict[str, Any]]:
        items = self.steps.get(BENEFICIARIES.key)
        return [b for b in items if isinstance(b, dict)] if isinstance(items, list) else []

    def is_complete(self, step: Step) -> bool:
        return step.key in self.data["completed"]

    def first_incomplete(self) -> Step:
        for step in STEPS:
            if step is SUMMARY or not self.is_complete(step):
                return step
        return SUMMARY

    def can_open(self, step: Step) -> bool:
        """A step opens once every step before it is complete (no skipping ahead)."""
        return STEPS.index(step) <= STEPS.index(self.first_incomplete())

    def pending(self, name: str) -> str:
        value = self.data["pending"].get(name)
        return value if isinstance(value, str) else ""

    def application(self) -> Application:
        return build_application(self.data)

    def problems(self) -> list[Problem]:
        return check_application(self.application())

    def candidate(self, step: Step, values: Any) -> dict[str, Any]:
        """The payload as it would be with ``values`` saved for ``step`` (for checking)."""
        data = copy.deepcopy(self.data)
        data["steps"][step.key] = values
        return data

    # --- Writing ----------------------------------------------------------------------------
    def save_step(self, step: Step, values: Any, *, complete: bool = True) -> None:
        self.data["steps"][step.key] = values
        if complete and step.key not in self.data["completed"]:
            self.data["completed"].append(step.key)
        prefix = step.key + "."
        self.data["pending"] = {
            k: v for k, v in self.data["pending"].items() if not k.startswith(prefix)
        }
        self.save()

    def keep_pending(self, name: str, value: str) -> None:
        """Keep a valid secret typed in a form that was sent back for another reason."""
        if self.data["pending"].get(name) != value:
            self.data["pending"][name] = value
            self.save()

    def drop_pending(self, prefix: str) -> None:
        kept = {k: v for k, v in self.data["pending"].items() if not k.startswith(prefix)}
        if kept != self.data["pending"]:
            self.data["pending"] = kept
            self.save()

    def save(self) -> None:
        self.draft.store(self.data, current_step=self.first_incomplete().slug)
