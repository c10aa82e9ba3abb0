"""The access export (GDPR art. 15): the copy of every declared datum, and why it is held.

The document (schema ``mutualis.access/2``, documented in ``docs/rights.md``):

- ``categories``: per category of data, the records (one row of one model, restricted to the
  fields of that category), each with its ``values`` by field code;
- ``declaration``: per model present in ``categories``, what GDPR art. 15(1) requires for each
  of its fields — purposes, legal bases, category, recipients, retention, source — stated once
  per field rather than once per value;
- ``audit_log``, ``disclosures``: the operations on the person's data and what went to which
  recipient;
- ``information``: the purposes in full, the rights, how to exercise them and the CNIL.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils import timezone

from mutualis.audit.models import Disclosure, Event
from mutualis.members.models import User, UserKind
from mutualis.privacy import catalogue
from mutualis.privacy.declaration import NO_AUTOMATED_DECISION, NO_TRANSFER
from mutualis.privacy.policy import CNIL
from mutualis.recipients.register import visible_to_the_person
from mutualis.rights.export.labels import (
    ACCESS_SCHEMA,
    GENERATED,
    PROVIDED,
    RIGHTS,
    SELF,
    staff_role,
)
from mutualis.rights.export.queries import prepare
from mutualis.rights.export.reading import ExportState, walk
from mutualis.rights.export.render import share
from mutualis.rights.export.values import Stored, datetime_converter, jsonable

GUIDE = (
    "Vos données sont classées par catégorie (« categories ») en fiches (« records ») : une "
    "fiche est un enregistrement (« model_code », « record_id ») et donne ses valeurs "
    "(« values ») par code de donnée. Pour chaque donnée, la partie « declaration », sous le "
    "même code d'enregistrement puis de donnée, indique son libellé, sa catégorie, les "
    "finalités pour lesquelles nous la traitons et leur base légale, ses destinataires, sa "
    "durée de conservation et son origine. « erased » liste les données effacées. La partie "
    "« information » détaille les finalités, vos droits, la façon de les exercer et le "
    "recours auprès de la CNIL."
)
_CATEGORY_ORDER = {c.code: i for i, c in enumerate(catalogue.ALL_CATEGORIES)}


def build_access_export(person) -> dict:
    """Everything the mutuelle holds on ``person`` and why (GDPR art. 15(1) and (3)).

    A constant number of queries: one for the beneficiaries, one per declared model (plus one
    per many-to-many field), one each for the audit events, the disclosures and the accounts
    that acted. Returns plain dicts and lists (JSON-ready, template-friendly); the
    ``declaration`` and ``information`` blocks are shared by every export and must not be
    changed.
    """
    state = ExportState(person, portable=False)
    events_query, disclosures_query = _events_query(person), _disclosures_query(person)
    accounts: dict[int, str] = {}
    actors_query: list = []

    def actors(results: list) -> list:
        for actor in {row[3] for row in results[0]}:
            prefix, _sep, pk = actor.partition(":")
            if prefix == "user" and pk.isdigit():
                accounts[int(pk)] = actor
        if accounts:
            actors_query.append(_actors_query(sorted(accounts)))
        return actors_query

    walked, (event_rows, disclosure_rows), actor_rows = walk(
        state, [events_query, disclosures_query], actors
    )
    categories: dict[str, dict] = {}
    declaration: dict[str, dict] = {}
    purposes_used: set[str] = set()
    for plan, rows in walked:
        if not rows:
            continue
        code = plan.code
        declaration[code] = plan.information
        purposes_used |= plan.purposes
        for group, values, erased in rows.groups:
            category = categories.get(group.category.code)
            if category is None:
                category = categories[group.category.code] = _category(group.category)
            category["records"] += _records(code, rows, values, erased)
    at = datetime_converter(events_query[0].alias, state.zone)
    roles = _actor_roles(event_rows, accounts, actors_query, actor_rows, person)
    events = [
        {"seq": seq, "at": at(moment), "tag": tag, "actor": roles[actor]}
        for seq, moment, tag, actor in event_rows
    ]
    if events:
        purposes_used.add(catalogue.SECURITY_LOGGING.code)
    return {
        "schema": ACCESS_SCHEMA,
        "generated_at": timezone.now().astimezone(state.zone).isoformat(timespec="seconds"),
        "controller": controller(),
        "subject": {"id": str(person.pk), "name": person.full_name},
        "beneficiaries": [
            {"id": h.pk, "name": h.name, "holder": h.label}
            for h in state.holders.values()
            if h.beneficiary
        ],
        "categories": sorted(categories.values(), key=lambda c: _CATEGORY_ORDER.get(c["code"], 99)),
        "declaration": declaration,
        "guide": GUIDE,
        "audit_log": {**_audit_purpose(), "events": events},
        "disclosures": _disclosures(disclosures_query[0], disclosure_rows),
        "information": information(purposes_used),
    }


def _records(code: str, rows, values: list[dict], erased: list[list[str]]) -> list[dict]:
    """The records of one category of a model's rows (one per row, in their order)."""
    if rows.holder is not None:  # every row is one person's (most models: the member's own)
        label, theirs = rows.holder.label, rows.holder.beneficiary
        return [
            {
                "model_code": code,
                "record_id": pk,
                "holder": label,
                "held_under_your_contract": theirs,
                "values": row_values,
                "erased": row_erased,
            }
            for pk, row_values, row_erased in zip(rows.pks, values, erased, strict=True)
        ]
    return [
        {
            "model_code": code,
            "record_id": pk,
            "holder": holder.label,
            "held_under_your_contract": holder.beneficiary,
            "values": row_values,
            "erased": row_erased,
        }
        for pk, holder, row_values, row_erased in zip(
            rows.pks, rows.holders, values, erased, strict=True
        )
    ]


def _category(category: catalogue.Category) -> dict:
    return {
        "code": category.code,
        "label": category.label,
        "examples": category.examples,
        "sensitive": category.sensitive,
        "records": [],
    }


def controller() -> dict:
    organisation = settings.MUTUALIS_ORGANISATION
    return {
        "name": organisation["name"],
        "address": organisation["address"],
        "dpo_email": organisation["dpo_email"],
    }


# --- The audit log and the disclosure register ---------------------------------------------------
def _events_query(person):
    return prepare(
        Event,
        "events",
        [person.pk],
        lambda keys: (
            Event.objects.filter(subject_id=keys[0])
            .order_by("at", "id")
            .values_list("link__seq", Stored("at"), "tag", "actor")
        ),
    )


def _disclosures_query(person):
    return prepare(
        Disclosure,
        "disclosures",
        [person.pk],
        lambda keys: (
            # Without those the person may not be told of yet (an authority's secrecy).
            visible_to_the_person(Disclosure.objects.filter(subject_id=keys[0]))
            .order_by("at", "pk")
            .values_list("at", "recipient", "categories", "reason")
        ),
    )


def _actors_query(user_ids: list[int]):
    return prepare(
        User,
        "actors",
        user_ids,
        lambda keys: User._base_manager.filter(pk__in=keys).values_list(
            "pk", "kind", "role", "member__person"
        ),
    )


def _actor_roles(events: list, accounts: dict, prepared: list, rows: list, person) -> dict:
    """Who acted, as a role: audit actors are ids, and a staff member's name is not the
    person's data."""
    fixed = {
        "system": "la mutuelle (traitement automatique)",
        "anonymous": "personne non connectée",
    }
    actors = {row[3] for row in events}
    roles = {actor: fixed[actor] for actor in actors if actor in fixed}
    if prepared:
        for pk, kind, role, member_person in prepared[0][0].orm_rows(rows[0]):
            if kind == UserKind.STAFF:
                text = staff_role(role)
            else:
                text = SELF if str(member_person) == str(person.pk) else "un autre adhérent"
            roles[accounts[pk]] = text
    return {actor: roles.get(actor, "la mutuelle") for actor in actors}


def _disclosures(query, rows: list) -> list[dict]:
    if not rows:
        return []
    recipients = {r.code: r.label for r in catalogue.ALL_RECIPIENTS}
    labels = {c.code: c.label for c in catalogue.ALL_CATEGORIES}
    return [
        {
            "at": jsonable(at),
            "recipient": recipients.get(recipient, recipient),
            "categories": [labels.get(code, code) for code in categories],
            "reason": reason,
        }
        for at, recipient, categories, reason in query.orm_rows(rows)
    ]


@functools.cache
def _audit_purpose() -> dict:
    """Why the audit log is kept (the same for everyone, so built once; read-only)."""
    purpose = catalogue.SECURITY_LOGGING
    basis = purpose.legal_basis
    return {
        "purpose": purpose.title,
        "legal_basis": {"article": basis.article, "label": basis.label} if basis else None,
        "retention": purpose.retention.summary if purpose.retention else "",
    }


# --- The general information of art. 15(1) -------------------------------------------------------
_INFORMATION: dict[frozenset, dict] = {}


def information(purposes_used: set[str]) -> dict:
    """The general information of GDPR art. 15(1)(a)-(h), from the catalogue: the same for
    everyone whose data serve the same purposes, so built once per set (and read-only)."""
    key = frozenset(purposes_used)
    found = _INFORMATION.get(key)
    if found is None:
        found = _INFORMATION[key] = share(_build_information(key))
    return found


def _build_information(purposes_used: frozenset) -> dict:
    purposes = []
    for purpose in catalogue.ALL_PURPOSES:
        if purpose.code not in purposes_used:
            continue
        basis = purpose.legal_basis
        purposes.append(
            {
                "code": purpose.code,
                "title": purpose.title,
                "description": purpose.description,
                "policy_section": purpose.policy_section,
                "legal_basis": {
                    "article": basis.article if basis else "",
                    "label": basis.label if basis else "",
                    "detail": purpose.legal_basis_detail,
                },
                "categories": sorted(c.label for c in purpose.categories),
                "recipients": [{"label": r.label, "detail": r.detail} for r in purpose.recipients],
                "retention": purpose.retention.summary if purpose.retention else "",
                "retention_source": purpose.retention.source if purpose.retention else "",
                "transfers": " ; ".join(purpose.transfers) or NO_TRANSFER,
                "automated_decision": purpose.automated_decision or NO_AUTOMATED_DECISION,
            }
        )
    organisation = settings.MUTUALIS_ORGANISATION
    return {
        "purposes": purposes,
        "sources": {
            PROVIDED: "données que vous nous avez communiquées (adhésion, espace adhérent, "
            "courriers, appels) ; pour vos bénéficiaires, celles que vous nous avez données",
            GENERATED: "données créées par la mutuelle pour gérer votre contrat et nos échanges "
            "(numéros, dates, historique)",
        },
        "rights": [{"article": a, "right": r, "description": d} for a, r, d in RIGHTS],
        "how_to_exercise": "depuis votre espace adhérent, par courriel à "
        f"{organisation['dpo_email']} ou par courrier à {organisation['address']} ; réponse "
        "sous un mois, prolongeable de deux mois pour une demande complexe (RGPD art. 12(3))",
        "cnil": dict(CNIL),
        "notes": [
            "Les index techniques (empreintes servant aux recherches, comme celle de votre numéro "
            "de sécurité sociale) sont signalés sans leur valeur, qui n'a pas de sens lisible.",
            "Votre mot de passe n'est jamais conservé : seule une empreinte irréversible l'est.",
            "Les données de vos bénéficiaires figurent parce qu'elles sont détenues au titre de "
            "votre contrat ; leurs autres données ne sont communiquées qu'à eux-mêmes.",
        ],
    }
