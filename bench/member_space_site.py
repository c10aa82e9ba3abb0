"""The site as the member-space benchmark serves it (gunicorn ``bench.member_space_site``): the
real URLs, plus a bare view of each measured page (``bench/member_space_urls.py``).

A bare view reads every row its page shows with **one** SQL statement — a ``UNION ALL`` of one
``SELECT`` per table, each table's columns in slots of their own — turns the rows into model
instances with the backend's and the fields' converters (as the ORM does), wires the relations
by hand and renders the page's own template with the context the real view gives it. It names
its member by the ids in its URL: no session, no login check, no terms check, no ORM query. The
row selections are the product's own querysets, compiled to SQL once per process and executed
only as sub-selects of that one statement, so both sides read the same rows.
"""

from __future__ import annotations

import datetime
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualis.settings")

# Values compiled into the statements in place of the request's own (replaced at each request).
USER = -7_340_031
SUBJECT = "bench-subject-placeholder"


@dataclass(frozen=True)
class Part:
    """One table's rows in the statement: ``ids`` selects their primary keys (a queryset built
    with the placeholders above); ``fields`` restricts the columns read (all by default)."""

    name: str
    model: Any
    ids: Callable[[], Any]
    fields: tuple[str, ...] | None = None


class OneQuery:
    """Several tables' rows read with one statement, returned as model instances per part."""

    def __init__(self, parts: list[Part], *, count: Callable[[], Any] | None = None) -> None:
        self.parts = parts
        self.count = count  # an optional COUNT(*) of a queryset, in a slot of its own
        self.sql: str | None = None

    def _compile(self, connection) -> None:
        qn = connection.ops.quote_name
        layouts, width = [], 0
        for part in self.parts:
            meta = part.model._meta
            fields = [
                f for f in meta.concrete_fields if part.fields is None or f.attname in part.fields
            ]
            converters = []
            for field in fields:
                col = field.get_col(meta.db_table)
                converters.append(
                    (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
                )
            layouts.append((part, fields, converters, width))
            width += len(fields)
        total = width + (1 if self.count else 0)
        # Empty slots: typed NULLs on PostgreSQL, which types a UNION's columns branch by branch.
        empty = ["NULL"] * total
        if connection.vendor == "postgresql":
            for _part, fields, _, start in layouts:
                for i, field in enumerate(fields):
                    empty[start + i] = f"CAST(NULL AS {field.db_type(connection) or 'text'})"
            if self.count:
                empty[width] = "CAST(NULL AS bigint)"
        branches, params = [], []
        for part, fields, _, start in layouts:
            meta = part.model._meta
            slots = list(empty)
            for i, field in enumerate(fields):
                slots[start + i] = f"t.{qn(field.column)}"
            sub, sub_params = part.ids().values("pk").query.sql_with_params()
            branches.append(
                f"SELECT '{part.name}', {', '.join(slots)} FROM {qn(meta.db_table)} t "
                f"WHERE t.{qn(meta.pk.column)} IN ({sub})"
            )
            params += list(sub_params)
        if self.count:
            slots = list(empty)
            slots[width] = "COUNT(*)"
            sub, sub_params = self.count().values("pk").query.sql_with_params()
            branches.append(f"SELECT 'count', {', '.join(slots)} FROM ({sub}) q")
            params += list(sub_params)
        self.sql = " UNION ALL ".join(branches)
        self.params = params
        self.layouts = {
            part.name: (part, fields, converters, start)
            for part, fields, converters, start in layouts
        }
        self.width = width

    def run(self, user_id: int, subject: str = "") -> dict[str, Any]:
        from django.db import connection

        if self.sql is None:
            self._compile(connection)
        params = [user_id if p == USER else subject if p == SUBJECT else p for p in self.params]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        found: dict[str, Any] = defaultdict(list)
        for row in rows:
            name = row[0]
            if name == "count":
                found["count"] = row[1 + self.width]
                continue
            part, fields, converters, start = self.layouts[name]
            values = []
            for (col, convs), value in zip(
                converters, row[1 + start : 1 + start + len(fields)], strict=True
            ):
                for convert in convs:
                    value = convert(value, col, connection)
                values.append(value)
            names = None if part.fields is None else [f.attname for f in fields]
            found[name].append(part.model.from_db(connection.alias, names, values))
        return found


def by_pk(instances) -> dict:
    return {instance.pk: instance for instance in instances}


def ordered(instances: list, model) -> list:
    """In the model's default ordering, as the ORM's queries return them."""
    result = list(instances)
    for name in reversed(model._meta.ordering or []):
        reverse = name.startswith("-")
        attname = model._meta.get_field(name.lstrip("-")).attname
        result.sort(key=lambda obj, a=attname: getattr(obj, a), reverse=reverse)
    return result


def prefetched(instance, name: str, objects: list) -> None:
    """``instance.<name>.all()`` answers ``objects`` without a query, as after a prefetch."""
    manager = getattr(instance, name)
    queryset = manager.model.objects.none()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    # A many-to-many manager names its cache; a reverse foreign key's is its relation's.
    cache = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[cache] = queryset


# --- The three pages' statements --------------------------------------------------------------
def _member_ids():
    from mutualis.members.models import Member

    return Member.objects.filter(account_id=USER)


def _household_parts(*, mandates) -> list[Part]:
    """The member, their account, the people of the household and their keys, the contracts."""

    from mutualis.billing.models import Mandate
    from mutualis.contracts.models import Contract, Offer
    from mutualis.members.models import Beneficiary, Member, Person, User
    from mutualis.vault.models import DataKey

    def holders():
        return Person.objects.filter(member__account_id=USER)

    def dependants():
        return Person.objects.filter(beneficiary__member__account_id=USER)

    # Each set by its own indexed path (an OR across the two joins would scan whole tables as
    # they grow); the parts are merged by _household.
    return [
        Part("member", Member, _member_ids),
        Part("user", User, lambda: User.objects.filter(pk=USER)),
        Part("person", Person, holders),
        Part("person_b", Person, dependants),
        Part(
            "datakey",
            DataKey,
            lambda: DataKey.objects.filter(pk__in=holders().values("data_key_id")),
        ),
        Part(
            "datakey_b",
            DataKey,
            lambda: DataKey.objects.filter(pk__in=dependants().values("data_key_id")),
        ),
        Part(
            "datakey_m",
            DataKey,
            lambda: DataKey.objects.filter(pk__in=mandates().values("data_key_id")),
        ),
        Part(
            "beneficiary", Beneficiary, lambda: Beneficiary.objects.filter(member__account_id=USER)
        ),
        Part("contract", Contract, lambda: Contract.objects.filter(member__account_id=USER)),
        Part(
            "link",
            Contract.beneficiaries.through,
            lambda: Contract.beneficiaries.through.objects.filter(
                contract__member__account_id=USER
            ),
        ),
        Part("offer", Offer, lambda: Offer.objects.filter(contracts__member__account_id=USER)),
        Part("mandate", Mandate, mandates),
    ]


def _person_model():
    from mutualis.members.models import Person

    return Person


def _household(found: dict) -> SimpleNamespace:
    """The instances wired as the real views' ``select_related`` and prefetches leave them."""
    from mutualis.billing.models import Mandate
    from mutualis.contracts.models import Contract
    from mutualis.members.models import Beneficiary

    found["person"] = found["person"] + found.pop("person_b", [])
    found["datakey"] = found["datakey"] + found.pop("datakey_b", []) + found.pop("datakey_m", [])
    keys = by_pk(found["datakey"])
    people = by_pk(found["person"])
    for person in people.values():
        person.data_key = keys[person.data_key_id]
    (member,) = found["member"]
    member.person = people[member.person_id]
    member.account = found["user"][0] if found["user"] else None
    beneficiaries = by_pk(found["beneficiary"])
    for beneficiary in beneficiaries.values():
        beneficiary.person = people[beneficiary.person_id]
        beneficiary.member = member
    offers = by_pk(found["offer"])
    covered = defaultdict(list)
    for link in found["link"]:
        covered[link.contract_id].append(beneficiaries[link.beneficiary_id])
    contracts = ordered(found["contract"], Contract)
    for contract in contracts:
        contract.member = member
        contract.offer = offers[contract.offer_id]
        prefetched(contract, "beneficiaries", ordered(covered[contract.pk], Beneficiary))
    mandates = ordered(found["mandate"], Mandate)
    for mandate in mandates:
        mandate.data_key = keys[mandate.data_key_id]
        mandate.member = member
    return SimpleNamespace(
        member=member,
        contracts=contracts,
        mandates=mandates,
        beneficiaries=ordered(list(beneficiaries.values()), Beneficiary),
    )


def _current_mandates():
    from mutualis.billing.models import Mandate

    return Mandate.objects.filter(member__account_id=USER).current()


def _all_mandates():
    from mutualis.billing.models import Mandate

    return Mandate.objects.filter(member__account_id=USER)


DASHBOARD = None
MY_DATA = None
MESSAGES = None


def _dashboard_query() -> OneQuery:
    from mutualis.billing.models import DunningCase, LedgerEntry, PreNotification
    from mutualis.contracts.models import PremiumRate

    parts = _household_parts(mandates=_current_mandates)
    parts += [
        Part(
            "rate",
            PremiumRate,
            lambda: PremiumRate.objects.filter(offer__contracts__member__account_id=USER),
        ),
        # What may suspend a contract's cover (its status), the balance and the next debit.
        Part(
            "dunning",
            DunningCase,
            lambda: DunningCase.objects.filter(contract__member__account_id=USER),
        ),
        Part(
            "entry",
            LedgerEntry,
            lambda: LedgerEntry.objects.filter(member__account_id=USER),
            ("id", "amount", "booked_on"),
        ),
        Part(
            "notice",
            PreNotification,
            lambda: PreNotification.objects.filter(mandate__in=_current_mandates()),
            ("id", "mandate_id", "collection_date", "amount", "created_at"),
        ),
    ]
    return OneQuery(parts)


def balance(entries: list, day: datetime.date):
    """``billing.ledger.balance`` from the entries already read."""
    from decimal import Decimal

    from mutualis.billing.ledger import cents

    return cents(sum((e.amount for e in entries if e.booked_on <= day), Decimal("0.00")))


def next_debit(mandates: list, notices: list, day: datetime.date):
    """``billing.statement.next_debit`` from the current mandates and notices already read."""
    from mutualis.billing.statement import NextDebit

    if not mandates:
        return None
    latest: dict = {}
    for notice in notices:
        if notice.mandate_id != mandates[0].pk or notice.collection_date < day:
            continue
        made = latest.get(notice.collection_date)
        if made is None or notice.created_at > made[1]:
            latest[notice.collection_date] = (notice.amount, notice.created_at)
    for when in sorted(latest):
        if latest[when][0] > 0:
            return NextDebit(when, latest[when][0])
    return None


def premium(contract, rates: list, day: datetime.date):
    """``Contract.monthly_premium`` from rate rows already read."""
    from decimal import Decimal

    mine = [r for r in rates if r.offer_id == contract.offer_id and r.effective_from <= day]
    table = max((r.effective_from for r in mine), default=None)
    total = Decimal("0")
    for person in contract.covered_people():
        age = person.age_on(day)
        if age is None:
            continue
        rate = next(r for r in mine if r.effective_from == table and r.min_age <= age <= r.max_age)
        total += rate.monthly_amount
    return total


def dashboard(request, user_id: int):
    from django.shortcuts import render
    from django.utils import timezone

    from mutualis.billing.models import DunningCase
    from mutualis.portal.views.dashboard import contract_status

    global DASHBOARD
    DASHBOARD = DASHBOARD or _dashboard_query()
    found = DASHBOARD.run(user_id)
    house = _household(found)
    today = timezone.localdate()
    cases = defaultdict(list)
    for case in ordered(found["dunning"], DunningCase):
        cases[case.contract_id].append(case)
    for contract in house.contracts:
        prefetched(contract, "dunning_cases", cases[contract.pk])
        contract.status_label = contract_status(contract)
        contract.premium = premium(contract, found["rate"], today)
    context = {
        "member": house.member,
        "policy_notice": None,
        "contracts": house.contracts,
        "mandate": house.mandates[0] if house.mandates else None,
        "balance": balance(found["entry"], today),
        "next_debit": next_debit(house.mandates, found["notice"], today),
    }
    return render(request, "portal/dashboard.html", context)


# --- « Mes données » ---------------------------------------------------------------------------
def _my_data_query() -> OneQuery:
    from mutualis.audit.models import Disclosure
    from mutualis.contracts.models import Contract
    from mutualis.privacy.models import PolicyVersion
    from mutualis.recipients import register
    from mutualis.recipients.models import Organisation, RightsCheck
    from mutualis.recipients.models_exchange import ExchangeFile, ExchangeLine
    from mutualis.recipients.models_requisitions import Requisition, RequisitionSubject

    def disclosures():
        return register.visible_to_the_person(Disclosure.objects.filter(subject_id=SUBJECT))

    parts = _household_parts(mandates=_all_mandates)
    parts += [
        Part(
            "policy",
            PolicyVersion,
            lambda: PolicyVersion.objects.filter(
                pk__in=Contract.objects.filter(member__account_id=USER).values("policy_version_id")
            ),
        ),
        Part("disclosure", Disclosure, disclosures),
        Part(
            "rightscheck",
            RightsCheck,
            lambda: RightsCheck.objects.filter(disclosure__in=disclosures()),
            ("id", "disclosure_id", "organisation_id"),
        ),
        Part(
            "exchangeline",
            ExchangeLine,
            lambda: ExchangeLine.objects.filter(disclosure__in=disclosures()),
            ("id", "disclosure_id", "exchange_id"),
        ),
        Part(
            "exchangefile",
            ExchangeFile,
            lambda: ExchangeFile.objects.filter(lines__disclosure__in=disclosures()),
            ("id", "organisation_id"),
        ),
        Part(
            "requisitionsubject",
            RequisitionSubject,
            lambda: RequisitionSubject.objects.filter(disclosure__in=disclosures()),
            ("id", "disclosure_id", "requisition_id"),
        ),
        Part(
            "requisition",
            Requisition,
            lambda: Requisition.objects.filter(subjects__disclosure__in=disclosures()),
            ("id", "organisation_id"),
        ),
        Part(
            "organisation",
            Organisation,
            lambda: (
                Organisation.objects.filter(
                    pk__in=RightsCheck.objects.filter(disclosure__in=disclosures()).values(
                        "organisation_id"
                    )
                )
                | Organisation.objects.filter(
                    pk__in=ExchangeFile.objects.filter(lines__disclosure__in=disclosures()).values(
                        "organisation_id"
                    )
                )
                | Organisation.objects.filter(
                    pk__in=Requisition.objects.filter(
                        subjects__disclosure__in=disclosures()
                    ).values("organisation_id")
                )
            ),
        ),
    ]
    return OneQuery(parts)


def _things(house, policies: dict):
    """``mutualis.portal.inventory._things``, over the instances already read."""
    member = house.member
    yield "Vous", [member.person]
    yield f"Votre adhésion n° {member.number}", [member]
    for beneficiary in house.beneficiaries:
        title = f"{beneficiary.person.full_name} ({beneficiary.get_role_display().lower()})"
        yield title, [beneficiary.person, beneficiary]
    for contract in house.contracts:
        contract.policy_version = policies.get(contract.policy_version_id)
        yield f"Contrat n° {contract.number}", [contract]
    for mandate in house.mandates:
        state = "en cours" if mandate.ended_at is None else "révoqué"
        yield f"Mandat de prélèvement {mandate.reference} ({state})", [mandate]
    if member.account is not None:
        yield "Votre compte de l'espace adhérent", [member.account]


def _inventory(things) -> list:
    """``mutualis.portal.inventory.inventory`` from its list of things (same grouping)."""
    from mutualis.portal.inventory import NOT_GIVEN, Record, Section, rows_by_category
    from mutualis.privacy import catalogue

    sections: dict = {}
    for title, objects in things:
        per_category: dict = {}
        for obj in objects:
            for category, (rows, purposes) in rows_by_category(obj).items():
                section = sections.setdefault(category, Section(category))
                for purpose in sorted(purposes):
                    if purpose not in section.purposes:
                        section.purposes.append(purpose)
                record = per_category.get(category)
                if record is None:
                    record = per_category[category] = Record(title)
                    section.records.append(record)
                record.rows.extend(rows)
    order = {category: index for index, category in enumerate(catalogue.ALL_CATEGORIES)}
    result = []
    for category in sorted(sections, key=lambda c: order.get(c, len(order))):
        section = sections[category]
        section.records = [
            record
            for record in section.records
            if any(row.value != NOT_GIVEN for row in record.rows)
        ]
        if section.records:
            result.append(section)
    return result


def _register_rows(found: dict) -> list:
    """``mutualis.recipients.register.for_person`` from the rows already read."""
    from mutualis.recipients import register

    organisations = by_pk(found["organisation"])
    exchanges = {e.pk: e.organisation_id for e in found["exchangefile"]}
    requisitions = {r.pk: r.organisation_id for r in found["requisition"]}
    going: dict = {}
    for check in found["rightscheck"]:
        going[check.disclosure_id] = check.organisation_id
    for line in found["exchangeline"]:
        going[line.disclosure_id] = exchanges.get(line.exchange_id)
    for subject in found["requisitionsubject"]:
        going[subject.disclosure_id] = requisitions.get(subject.requisition_id)
    disclosures = sorted(found["disclosure"], key=lambda d: (d.at, d.pk), reverse=True)
    return [
        register.Row(
            pk=d.pk,
            at=d.at,
            recipient=register.RECIPIENT_LABELS.get(d.recipient, d.recipient),
            organisation=(
                organisations[going[d.pk]].identity if going.get(d.pk) in organisations else ""
            ),
            subject_id=d.subject_id,
            categories=[register.CATEGORY_LABELS.get(code, code) for code in d.categories or []],
            reason=d.reason,
            withheld=False,
        )
        for d in disclosures
    ]


def my_data(request, user_id: int, person_id):
    from django.shortcuts import render

    from mutualis.vault.erased import ERASED_TEXT

    global MY_DATA
    MY_DATA = MY_DATA or _my_data_query()
    found = MY_DATA.run(user_id, str(person_id))
    house = _household(found)
    for beneficiary in house.beneficiaries:
        beneficiary.member = house.member
    # A child attached to a parent's NIR shows that parent, one of the household.
    people = by_pk(found["person"])
    for person in people.values():
        if person.nir_holder_id in people:
            person.nir_holder = people[person.nir_holder_id]
    context = {
        "member": house.member,
        "policy_notice": None,
        "sections": _inventory(_things(house, by_pk(found["policy"]))),
        "erased_text": ERASED_TEXT,
        "disclosures": _register_rows(found),
    }
    return render(request, "portal/my_data.html", context)


# --- Messages ----------------------------------------------------------------------------------
PER_PAGE = 20


def _messages_query() -> OneQuery:
    from mutualis.contact.models import Complaint, Inquiry, Message
    from mutualis.members.models import User

    def page():
        return Inquiry.objects.filter(person__member__account_id=USER).order_by(
            "-last_contact_at", "-received_at"
        )[:PER_PAGE]

    def inquiries():
        return Inquiry.objects.filter(pk__in=page().values("pk"))

    return OneQuery(
        [
            Part("member", _member_model(), _member_ids),
            Part("user", User, lambda: User.objects.filter(pk=USER)),
            Part(
                "person",
                _person_model(),
                lambda: _person_model().objects.filter(member__account_id=USER),
            ),
            Part("inquiry", Inquiry, inquiries),
            Part("complaint", Complaint, lambda: Complaint.objects.filter(inquiry__in=inquiries())),
            Part(
                "message",
                Message,
                lambda: Message.objects.filter(inquiry__in=inquiries()),
                ("id", "inquiry_id", "at", "direction"),
            ),
        ],
        count=lambda: Inquiry.objects.filter(person__member__account_id=USER),
    )


def _member_model():
    from mutualis.members.models import Member

    return Member


def messages(request, user_id: int):
    from django.shortcuts import render

    from mutualis.contact.models import Direction
    from mutualis.portal.views.messages import member_status
    from mutualis.privacy import catalogue
    from mutualis.privacy.policy import INBOUND_EMAIL_RETENTION_MONTHS

    global MESSAGES
    MESSAGES = MESSAGES or _messages_query()
    found = MESSAGES.run(user_id)
    (member,) = found["member"]
    member.person = found["person"][0]
    member.account = found["user"][0]
    complaints = {c.inquiry_id: c for c in found["complaint"]}
    last: dict = {}
    for message in found["message"]:
        if message.inquiry_id not in last or message.at > last[message.inquiry_id].at:
            last[message.inquiry_id] = message
    threads = sorted(
        found["inquiry"], key=lambda i: (i.last_contact_at, i.received_at), reverse=True
    )
    for inquiry in threads:
        inquiry._state.fields_cache["complaint"] = complaints.get(inquiry.pk)
        newest = last.get(inquiry.pk)
        inquiry.last_at = newest.at if newest else None
        inquiry.last_direction = newest.direction if newest else None
    count = found.get("count") or 0
    pages = max(1, math.ceil(count / PER_PAGE))
    page_obj = SimpleNamespace(
        number=1,
        has_previous=False,
        has_next=pages > 1,
        next_page_number=2,
        paginator=SimpleNamespace(num_pages=pages, count=count),
    )
    context = {
        "member": member,
        "policy_notice": None,
        "threads": threads,
        "is_paginated": pages > 1,
        "page_obj": page_obj,
        "paginator": page_obj.paginator,
        "retention": {
            "emails_months": INBOUND_EMAIL_RETENTION_MONTHS,
            "inquiries": catalogue.RETENTION_INQUIRIES,
            "complaints": catalogue.RETENTION_COMPLAINTS,
        },
        "rows": [
            {
                "inquiry": inquiry,
                "status": member_status(inquiry),
                "from_us": inquiry.last_direction == Direction.OUTBOUND,
            }
            for inquiry in threads
        ],
    }
    return render(request, "portal/messages/list.html", context)


def application_factory():
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.member_space_urls"
    # Static URLs without the manifest of a ``collectstatic`` (the benchmark serves no static
    # file): both sides render them the same way.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from mutualis.wsgi import application

    return application


application = None
if os.environ.get("MUTUALIS_BENCH_SERVE"):
    application = application_factory()
