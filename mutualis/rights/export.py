"""The access export (GDPR art. 15) and the portability archive (art. 20), from the declaration.

Nothing here lists models. Every model declaration with personal fields and a ``subject_field``
(``mutualis.privacy.registry``) is read, one query per model, for the rows whose subject path
points at the person; a field declared tomorrow is exported tomorrow (DESIGN.md section 4).

Whose rows:

- the person's own, through every declared subject path;
- the data of the member's beneficiaries held under the member's contract: the beneficiaries'
  person rows, and the rows whose subject path goes through ``members.Beneficiary``. A
  beneficiary's own membership, contracts, mandates or correspondence are theirs, not the
  member's, and are never included. Each such record is marked ``held_under_your_contract``.

What each value becomes (GDPR art. 15(3), a copy "in a commonly used electronic form"):

- encrypted fields are decrypted (the person's data key is joined to the row, unwrapped once per
  person by the vault's key cache); once the key is shredded the value is "[donnée effacée]";
- dates and times are ISO 8601 (times in the mutuelle's time zone, with their offset); choices
  read as their French label; relations as a readable name (a related model that holds no
  personal data by its ``str()``, a person by their name, a staff account by its service, any
  other personal record by its id); many-to-many relations as lists; binary content as
  ``{"name", "size"}`` (the bytes are in the portability archive when they are portable);
- blind indexes are listed without their value: they are keyed fingerprints of another field,
  useless to the person, yet they exist and the person is told so; password hashes likewise.

Fields declared not personal are never read into the export. A declaration without a subject
path whose model names the person by a declared ``subject_id`` (restrictions of processing) is
read by it; the audit log and the disclosure register have their own sections; the rest is
explained in :data:`NOT_WALKED` (a test fails on any other).

Speed (an export is answered at once, no queue): one query per declared model, plus one per
many-to-many field, the beneficiaries, the audit events, their actors and the disclosures,
whatever the number of rows. Each query is written by the ORM from the declaration once per
process and then only executed (compiling costs more than running it); on PostgreSQL the
queries go in two pipelined round trips. Values are read as columns, not model instances, and
the JSON of each field's metadata is encoded once. ``bench/rights_access.py`` measures it
against raw SQL reads of the same rows.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from json.encoder import encode_basestring

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections, models
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.formats import date_format

from mutualis.audit.models import Disclosure, Event
from mutualis.members.models import Beneficiary, User, UserKind
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import FieldDeclaration, LegalBasis, ModelDeclaration
from mutualis.privacy.policy import CNIL
from mutualis.vault import services as vault
from mutualis.vault.blind_index import BlindIndexField
from mutualis.vault.erased import ERASED, ERASED_TEXT
from mutualis.vault.exceptions import DecryptionError, KeyShreddedError
from mutualis.vault.fields import EncryptedDateField
from mutualis.vault.models import DataKey

ACCESS_SCHEMA = "mutualis.access/1"
PORTABILITY_SCHEMA_VERSION = "1.0"
PROVIDED = "fournie par vous"
GENERATED = "générée par la mutuelle"
PASSWORD_WITHHELD = "non communicable : seule une empreinte est conservée"  # noqa: S105
INDEX_WITHHELD = "index technique : empreinte calculée pour les recherches, sans valeur lisible"
SELF = "vous"
_COMPACT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": ")).encode
PORTABLE_BASES = frozenset({LegalBasis.CONTRACT, LegalBasis.CONSENT})

# A declaration without a subject path whose model names the person by this declared field
# (their primary key as text, as the audit log does) is read by it.
SUBJECT_ID_FIELD = "subject_id"

# Declarations with personal fields that the walk does not read, and why.
NOT_WALKED: dict[str, str] = {
    "audit.event": "journal d'audit : lu par l'identifiant de la personne (audit_log)",
    "audit.disclosure": "registre des communications : lu par l'identifiant (disclosures)",
    "contracts.subscriptiondraft": "adhésion en ligne non confirmée : rattachée à aucune "
    "personne, effacée au bout d'un jour",
    "privacy.legalhold": "gel de conservation : mesure interne liée à une procédure, "
    "communiquée par le délégué à la protection des données sur demande",
}

# French labels of fields whose model field gives none (Django's default is its English name).
FIELD_LABELS: dict[tuple[str, str], str] = {
    ("members.member", "joined_at"): "adhérent depuis le",
    ("members.member", "account"): "compte de l'espace adhérent",
    ("members.member", "legacy_reference"): "référence dans notre ancien système de gestion",
    ("members.beneficiary", "added_at"): "couvert depuis le",
    ("members.person", "nir_index"): "index de recherche du numéro de sécurité sociale",
    ("contracts.contract", "offer"): "formule",
    ("contracts.contract", "beneficiaries"): "bénéficiaires",
    ("members.user", "last_login"): "dernière connexion",
    ("members.user", "date_joined"): "compte créé le",
    ("members.user", "password"): "mot de passe",
    ("contact.inquiry", "person"): "personne concernée",
    ("contact.message", "author"): "rédigé par",
    ("contact.attachment", "content"): "contenu du fichier",
    ("contact.complaint", "qualified_at"): "qualifiée de réclamation le",
    ("contact.complaint", "qualified_by"): "qualifiée par",
    ("rights.deathrecord", "recorded_by"): "enregistré par",
    ("rights.postmortemdirective", "instructions"): "instructions",  # French already
    ("rights.requestevent", "action"): "étape",
    ("rights.requestevent", "note"): "note",  # French already
}

RIGHTS: tuple[tuple[str, str, str], ...] = (
    ("RGPD art. 15", "Accès", "obtenir la copie de vos données et les informations ci-dessous"),
    ("RGPD art. 16", "Rectification", "faire corriger ou compléter vos données"),
    (
        "RGPD art. 17",
        "Effacement",
        "faire effacer vos données, sauf lorsqu'une obligation légale impose de les conserver : "
        "elles sont alors archivées et leur usage limité",
    ),
    ("RGPD art. 18", "Limitation", "faire limiter l'usage de vos données à leur conservation"),
    (
        "RGPD art. 20",
        "Portabilité",
        "recevoir les données que vous nous avez fournies, en JSON et en CSV",
    ),
    (
        "RGPD art. 21",
        "Opposition",
        "vous opposer, sans motif, à la prospection ; pour motif "
        "légitime, aux traitements fondés sur l'intérêt légitime de la mutuelle",
    ),
    ("RGPD art. 7(3)", "Retrait du consentement", "retirer à tout moment un accord donné"),
    (
        "Loi 78-17 art. 85",
        "Directives post mortem",
        "définir le sort de vos données après votre décès",
    ),
)


def field_label(model_label: str, model_field: models.Field) -> str:
    """The French label of a model field: the table above, else its ``verbose_name``."""
    return FIELD_LABELS.get((model_label, model_field.name)) or str(model_field.verbose_name)


def has_french_label(model_label: str, model_field: models.Field) -> bool:
    """Whether someone wrote the field's label (Django's default is its name)."""
    default = model_field.name.replace("_", " ")
    return (model_label, model_field.name) in FIELD_LABELS or model_field.verbose_name != default


# --- Naming related objects ------------------------------------------------------------------
# A relation reads as a name built from a few columns of the related row, joined in the same
# query: model label -> (columns, name from their values).
def _staff_role(role: str) -> str:
    for service in catalogue.ALL_SERVICES:
        if service.code == role:
            return f"personnel de la mutuelle (service {service.label})"
    return "personnel de la mutuelle"


def _account_name(kind: str, role: str, email: str) -> str:
    return _staff_role(role) if kind == UserKind.STAFF else email


_ROLES = {str(k): str(v).lower() for k, v in Beneficiary._meta.get_field("role").flatchoices}

RELATED_NAMES: dict[str, tuple[tuple[str, ...], Callable[..., str]]] = {
    "members.person": (("first_names", "last_name"), lambda first, last: f"{first} {last}"),
    "members.beneficiary": (
        ("person__first_names", "person__last_name", "role"),
        lambda first, last, role: f"{first} {last} ({_ROLES.get(role, role)})",
    ),
    "members.member": (("number",), lambda number: f"adhérent n° {number}"),
    "members.user": (("kind", "role", "email"), _account_name),
}


def _namer(model: type[models.Model]) -> tuple[tuple[str, ...], Callable[..., str]]:
    label = model._meta.label_lower
    if label in RELATED_NAMES:
        return RELATED_NAMES[label]
    declaration = registry.get(label)
    if declaration is None or not declaration.holds_personal_data:
        # No personal data there (an offer, a policy version): its own str(), from its short
        # columns (a policy version's body is not read for every contract).
        names = tuple(
            f.attname
            for f in model._meta.concrete_fields
            if not isinstance(f, models.TextField | models.BinaryField | models.JSONField)
        )
        return names, lambda *values: str(model.from_db(None, names, list(values)))
    # Someone else's record may hide behind an unknown relation: its id, never its content.
    verbose = str(model._meta.verbose_name)
    return ("pk",), lambda pk: f"{verbose} {pk}"


# --- The plan: what to read for each declared model ------------------------------------------
VALUE, ENCRYPTED, CHOICE, RELATION, MANY, BINARY, SECRET, INDEX = (
    "value",
    "encrypted",
    "choice",
    "relation",
    "many",
    "binary",
    "secret",
    "index",
)


@dataclass(frozen=True)
class FieldPlan:
    name: str
    kind: str
    model_field: models.Field
    category: catalogue.Category
    label: str
    portable: bool
    meta: dict  # shared by every entry of this field
    meta_json: str  # the same, encoded once (see _render_entry)
    type_name: str
    columns: tuple[str, ...] = ()  # for a relation: the related columns its name needs
    namer: Callable[..., str] | None = None
    choices: dict | None = None


@dataclass(frozen=True)
class ModelPlan:
    declaration: ModelDeclaration
    model: type[models.Model]
    label: str  # the model's verbose name
    path: str  # ORM path from the model to the person's primary key (or their subject_id)
    depth: int
    beneficiaries: bool  # rows of the member's beneficiaries are held under the contract
    fields: tuple[FieldPlan, ...]
    name_field: str  # names a binary content ("filename"), "" for none
    layouts: dict = field(default_factory=dict, compare=False, repr=False)


def _path_models(model: type[models.Model], path: str) -> list[type[models.Model]]:
    found = [model]
    for part in path.split("__")[:-1]:
        model = model._meta.get_field(part).related_model
        found.append(model)
    return found


def _type_name(model_field: models.Field) -> str:
    for cls, name in (
        (models.DateTimeField, "datetime"),
        (models.DateField, "date"),
        (models.BooleanField, "boolean"),
        (models.DecimalField, "decimal"),
        (models.IntegerField, "integer"),
        (models.JSONField, "json"),
    ):
        if isinstance(model_field, cls):
            return name
    return "date" if isinstance(model_field, EncryptedDateField) else "string"


def _field_meta(model_label: str, label: str, name: str, decl: FieldDeclaration, rule) -> dict:
    order = {p.code: i for i, p in enumerate(catalogue.ALL_PURPOSES)}
    purposes = sorted(decl.purposes, key=lambda p: order.get(p.code, len(order)))
    bases, recipients = [], []
    for purpose in purposes:
        basis = purpose.legal_basis
        item = {"article": basis.article, "label": basis.label} if basis else None
        if item and item not in bases:
            bases.append(item)
        for recipient in purpose.recipients:
            if decl.category in recipient.categories and recipient.label not in recipients:
                recipients.append(recipient.label)
    if rule is not None:
        retention = rule.summary
    else:
        retention = " / ".join(sorted({p.retention.summary for p in purposes if p.retention}))
    return {
        "model": model_label,
        "field": label,
        "field_code": name,
        "purposes": [p.title for p in purposes],
        "legal_bases": bases,
        "recipients": recipients,
        "retention": retention,
        "source": PROVIDED if decl.provided_by_subject else GENERATED,
    }


def _field_plan(model: type[models.Model], name: str, decl: FieldDeclaration, rule) -> FieldPlan:
    model_field = model._meta.get_field(name)
    label = field_label(model._meta.label_lower, model_field)
    meta = _field_meta(str(model._meta.verbose_name), label, name, decl, rule)
    portable = decl.provided_by_subject and any(
        p.legal_basis in PORTABLE_BASES for p in decl.purposes
    )
    kind, extra = VALUE, {}
    if getattr(model_field, "is_encrypted", False):
        kind = ENCRYPTED
    elif isinstance(model_field, BlindIndexField):
        kind, portable = INDEX, False
    elif name == "password" and issubclass(model, AbstractBaseUser):
        kind, portable = SECRET, False
    elif model_field.is_relation:
        kind = MANY if model_field.many_to_many else RELATION
        columns, namer = _namer(model_field.related_model)
        extra = {"columns": columns, "namer": namer}
    elif isinstance(model_field, models.BinaryField):
        kind = BINARY
    elif model_field.choices:
        kind = CHOICE
        extra = {"choices": {k: str(v) for k, v in model_field.flatchoices}}
    type_name = {MANY: "list", RELATION: "reference", BINARY: "file", CHOICE: "code"}.get(
        kind, _type_name(model_field)
    )
    meta_json = _COMPACT(meta)[1:-1]
    return FieldPlan(
        name,
        kind,
        model_field,
        decl.category,
        label,
        portable,
        meta,
        meta_json,
        type_name,
        **extra,
    )


def _plan(declaration: ModelDeclaration) -> ModelPlan:
    model = apps.get_model(declaration.model)
    rule = declaration.retention_rule
    subject = _subject_path(declaration)
    chain = [] if subject == "id" else _path_models(model, subject)
    names = {f.name for f in model._meta.concrete_fields}
    return ModelPlan(
        declaration=declaration,
        model=model,
        label=str(model._meta.verbose_name),
        path="pk" if subject == "id" else subject,
        depth=0 if subject == "id" else len(chain),
        beneficiaries=subject == "id" or Beneficiary in chain,
        fields=tuple(
            _field_plan(model, name, decl, rule) for name, decl in declaration.fields.items()
        ),
        name_field=next((n for n in ("filename", "name") if n in names), ""),
    )


def _subject_path(declaration: ModelDeclaration) -> str:
    if declaration.subject_field:
        return declaration.subject_field
    return SUBJECT_ID_FIELD if SUBJECT_ID_FIELD in declaration.fields else ""


_plans: dict[int, tuple[ModelDeclaration, ModelPlan]] = {}


def plans() -> list[ModelPlan]:
    """One plan per walkable declaration, in a stable order (the person first)."""
    found = []
    for declaration in registry.all_declarations():
        if not (declaration.holds_personal_data and declaration.fields):
            continue
        if declaration.model.lower() in NOT_WALKED or not _subject_path(declaration):
            continue
        cached = _plans.get(id(declaration))
        if cached is None or cached[0] is not declaration:
            cached = _plans[id(declaration)] = (declaration, _plan(declaration))
        found.append(cached[1])
    return sorted(found, key=lambda p: (p.depth, p.model._meta.label_lower))


# --- Compiled queries --------------------------------------------------------------------------
# The ORM writes each query from the declaration (joins along the subject path, converters),
# once per thread, database and number of keys; an export only runs it with its own keys. This
# keeps an export at a few milliseconds: compiling a query costs more than running it.
_compiled = threading.local()
_SENTINEL = 0x6D757475616C69735F6578706F7274  # sentinel keys, never real ones


@dataclass(frozen=True)
class _Compiled:
    owner: object
    alias: str
    sql: str  # in the driver's own placeholder style
    params: tuple  # constant values, or _Slot for a key
    converters: dict
    compiler: object


@dataclass(frozen=True)
class _Slot:
    index: int
    form: str  # how the key is written: "same", "hex" or "str"


def _sentinels(values: list) -> list:
    if values and isinstance(values[0], int):
        return [-_SENTINEL - i for i in range(len(values))]
    return [uuid.UUID(int=_SENTINEL + i) for i in range(len(values))]


def _slot(param, sentinels: list):
    for i, sentinel in enumerate(sentinels):
        if param == sentinel:
            return _Slot(i, "same")
        if isinstance(sentinel, uuid.UUID) and param == sentinel.hex:
            return _Slot(i, "hex")
        if param == str(sentinel):
            return _Slot(i, "str")
    return param


def _prepare(owner: object, variant, values: list, build: Callable[[list], models.QuerySet]):
    """The compiled query ``build(keys)`` (compiled on first use) and its parameters for
    ``values`` as keys (UUIDs or integers)."""
    cache = _compiled.__dict__.setdefault("queries", {})
    key = (id(owner), variant, len(values))
    query = cache.get(key)
    if query is None or query.owner is not owner:
        query = cache[key] = _compile(owner, values, build)
    return query, [_key_param(p, values) if isinstance(p, _Slot) else p for p in query.params]


def _fetch(batch: list) -> list[list]:
    """The rows of each prepared query, the ORM's converters applied (encrypted columns come
    back sealed, dates as dates). On PostgreSQL the batch goes in one round trip (pipeline)."""
    if not batch:
        return []
    connection = connections[batch[0][0].alias]
    results = []
    if connection.queries_logged:  # tests and DEBUG see and count every query
        for query, params in batch:
            with connection.cursor() as cursor:
                cursor.execute(query.compiler.sql_for_wrapper, params)
                results.append(cursor.fetchall())
    else:  # Django's cursor wrapper costs as much as a small query: the driver's own cursor
        connection.ensure_connection()
        driver = connection.connection
        pipelined = connection.vendor == "postgresql" and hasattr(driver, "pipeline")
        with connection.wrap_database_errors, driver.pipeline() if pipelined else nullcontext():
            cursors = []
            for query, params in batch:
                cursor = driver.cursor()
                cursor.execute(query.sql, params)
                cursors.append(cursor)
            for cursor in cursors:
                results.append(cursor.fetchall())
                cursor.close()
    return [
        list(query.compiler.apply_converters(rows, query.converters)) if query.converters else rows
        for (query, _params), rows in zip(batch, results, strict=True)
    ]


def _compile(owner: object, values: list, build: Callable[[list], models.QuerySet]) -> _Compiled:
    sentinels = _sentinels(values)
    queryset = build(sentinels)
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    compiler.sql_for_wrapper = sql
    if compiler.connection.vendor == "sqlite":  # what Django's SQLite cursor does per query
        sql = _FORMAT_MARK.sub("?", sql).replace("%%", "%")
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    return _Compiled(
        owner,
        queryset.db,
        sql,
        tuple(_slot(p, sentinels) for p in params),
        compiler.get_converters(fields),
        compiler,
    )


_FORMAT_MARK = re.compile(r"(?<!%)%s")


def _key_param(slot: _Slot, values: list):
    value = values[slot.index]
    if slot.form == "hex":
        return value.hex
    return str(value) if slot.form == "str" else value


# --- Reading the rows ------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    pk: str
    name: str
    label: str  # "vous", or the beneficiary's name and role
    beneficiary: bool


def _holders_query(person):
    return _prepare(
        Beneficiary,
        "holders",
        [person.pk],
        lambda keys: (
            Beneficiary._base_manager.filter(member__person=keys[0])
            .order_by("added_at", "pk")
            .values_list("person_id", "role", "person__first_names", "person__last_name")
        ),
    )


def _holders(person, rows: list) -> dict[str, Holder]:
    holders = {str(person.pk): Holder(str(person.pk), person.full_name, SELF, False)}
    for person_id, role, first, last in rows:
        name = f"{first} {last}"
        text = f"{name}, bénéficiaire de votre contrat ({_ROLES.get(role, role)})"
        holders[str(person_id)] = Holder(str(person_id), name, text, True)
    return holders


@dataclass
class Row:
    """One row of a declared model: its key, whose it is, and each field's value."""

    pk: object
    holder: Holder
    values: list  # (FieldPlan, value, erased)


def _layout(plan: ModelPlan, fields: tuple[FieldPlan, ...], portable: bool) -> tuple:
    """The columns one query reads for ``fields``, and where each field finds its own."""
    columns, annotations, places = ["pk", plan.path], {}, []
    keys: dict[str, int] = {}
    for f in fields:
        start = len(columns)
        if f.kind == ENCRYPTED:
            keys.setdefault(f.model_field.key_field, 0)
            columns.append(f.name)
        elif f.kind == RELATION:
            columns += [f"{f.name}__{c}" for c in ("pk", *f.columns)]
        elif f.kind == BINARY and not portable:
            alias = f"export_size_{f.name}"
            annotations[alias] = Length(f.name)
            columns.append(alias)
        elif f.kind not in (MANY, SECRET, INDEX):
            columns.append(f.name)
        places.append((f, start))
    for key in keys:
        keys[key] = len(columns)
        columns += [key, f"{key}__wrapped_key", f"{key}__master_key_id"]
    if plan.name_field:
        columns.append(plan.name_field)
    return columns, annotations, places, keys


class _Export:
    """One export's reading state: whose rows, their keys, the data keys met, the time zone."""

    def __init__(self, person, *, portable: bool) -> None:
        self.person = person
        self.portable = portable
        self.own_ids = [person.pk]
        self.holders: dict[str, Holder] = {}
        self.all_ids: list = []
        self.data_keys: dict = {}
        self.zone = timezone.get_current_timezone()

    def set_holders(self, rows: list) -> None:
        self.holders = _holders(self.person, rows)
        self.order = {pk: i for i, pk in enumerate(self.holders)}
        self.all_ids = [uuid.UUID(pk) for pk in self.holders]


def _queries(plan: ModelPlan, fields: tuple[FieldPlan, ...], ctx: _Export) -> list:
    """The prepared queries reading ``plan``'s rows for the holders: one, plus one per
    many-to-many field."""
    ids = ctx.all_ids if plan.beneficiaries else ctx.own_ids
    variant = (ctx.portable, tuple(f.name for f in fields))
    layout = plan.layouts.get(variant)
    if layout is None:
        layout = plan.layouts[variant] = _layout(plan, fields, ctx.portable)
    columns, annotations = layout[0], layout[1]
    manager = plan.model._base_manager

    def build(keys_: list) -> models.QuerySet:
        lookup = {f"{plan.path}__in": keys_} if len(keys_) > 1 else {plan.path: keys_[0]}
        return manager.filter(**lookup).annotate(**annotations).values_list(*columns)

    queries = [_prepare(plan, ("rows", variant), ids, build)]
    queries += [_many_query(plan, f, ids) for f in fields if f.kind == MANY]
    return queries


def _rows(plan: ModelPlan, fields: tuple[FieldPlan, ...], ctx: _Export, results: list):
    """The rows of ``plan`` from the results of its queries (see :func:`_queries`)."""
    _columns, _annotations, places, keys = plan.layouts[
        (ctx.portable, tuple(f.name for f in fields))
    ]
    raw, rest = results[0], iter(results[1:])
    many = {f.name: _many(f, next(rest)) for f in fields if f.kind == MANY}
    holders, rows = ctx.holders, []
    for record in raw:
        values = [_convert(f, record, at, keys, ctx, plan, many) for f, at in places]
        rows.append(Row(record[0], holders[str(record[1])], values))
    order = ctx.order
    rows.sort(key=lambda row: order[row.holder.pk])  # stable: the model's order within a holder
    return rows


def _walk(ctx: _Export, plan_fields: list, extra_first: list = (), then=None):
    """Read every plan's rows in two batches (one round trip each on PostgreSQL): first the
    beneficiaries and everything keyed by the person alone, then what needs the beneficiaries'
    ids. ``extra_first`` are further prepared queries of the first batch; ``then(results)``
    gives those of the second from their results. Returns ``(rows per plan, results of
    extra_first, results of the second extra queries)``."""
    first = [p for p in plan_fields if not p[0].beneficiaries]
    second = [p for p in plan_fields if p[0].beneficiaries]
    batch = [_holders_query(ctx.person), *extra_first]
    spans = []
    for plan, fields in first:
        queries = _queries(plan, fields, ctx)
        spans.append((plan, fields, len(batch), len(queries)))
        batch += queries
    results = _fetch(batch)
    ctx.set_holders(results[0])
    found = {}
    for plan, fields, start, count in spans:
        found[id(plan)] = _rows(plan, fields, ctx, results[start : start + count])
    extra_results = results[1 : 1 + len(extra_first)]
    extra_second = then(extra_results) if then else []
    batch, spans = list(extra_second), []
    for plan, fields in second:
        queries = _queries(plan, fields, ctx)
        spans.append((plan, fields, len(batch), len(queries)))
        batch += queries
    results_second = _fetch(batch)
    for plan, fields, start, count in spans:
        found[id(plan)] = _rows(plan, fields, ctx, results_second[start : start + count])
    walked = [(plan, found[id(plan)]) for plan, _fields in plan_fields]
    return walked, extra_results, results_second[: len(extra_second)]


def _many_query(plan: ModelPlan, f: FieldPlan, ids: list):
    def build(keys_: list) -> models.QuerySet:
        lookup = {f"{plan.path}__in": keys_} if len(keys_) > 1 else {plan.path: keys_[0]}
        columns = [f"{f.name}__{c}" for c in ("pk", *f.columns)]
        qs = plan.model._base_manager.filter(**lookup)
        return qs.order_by("pk", f"{f.name}__pk").values_list("pk", *columns)

    return _prepare(plan, ("many", f.name), ids, build)


def _many(f: FieldPlan, rows: list) -> dict:
    found: dict = {}
    for row in rows:
        if row[1] is not None:  # a row without any link (outer join)
            found.setdefault(row[0], []).append(f.namer(*row[2:]))
    return found


def _convert(f: FieldPlan, record, at: int, keys, ctx: _Export, plan, many):
    """(field, JSON value, erased) of one field in one row."""
    kind = f.kind
    if kind == SECRET:
        return f, PASSWORD_WITHHELD, False
    if kind == INDEX:
        return f, INDEX_WITHHELD, False
    if kind == MANY:
        return f, many[f.name].get(record[0], []), False
    value = record[at]
    if kind == RELATION:
        return (
            f,
            (None if value is None else f.namer(*record[at + 1 : at + 1 + len(f.columns)])),
            False,
        )
    if value is None:
        return f, None, False
    if kind == ENCRYPTED:
        value = _decrypt(f, value, record, keys[f.model_field.key_field], ctx.data_keys)
        if value is ERASED:
            return f, ERASED_TEXT, True
    elif kind == CHOICE:
        # The archive keeps the stable code (its label beside it); the access export the label.
        return f, (value if ctx.portable or value == "" else f.choices.get(value, value)), False
    elif kind == BINARY:
        name = record[-1] if plan.name_field else None
        if ctx.portable:
            return f, {"name": name, "size": len(value), "content": bytes(value)}, False
        return f, {"name": name, "size": value}, False
    if isinstance(value, bool | int | str | float | dict | list):
        return f, value, False
    if isinstance(value, datetime.date):
        return f, _iso(value, ctx.zone), False
    return f, str(value), False


def _decrypt(f: FieldPlan, sealed, record, at: int, data_keys: dict):
    """Decrypt one value with its row's data key (unwrapped once, then from the key cache)."""
    key_id = record[at]
    if key_id is None:
        raise DecryptionError(f"{f.model_field.model._meta.label}.{f.name} has no data key.")
    data_key = data_keys.get(key_id)
    if data_key is None:
        data_key = data_keys[key_id] = DataKey(
            id=key_id, wrapped_key=record[at + 1], master_key_id=record[at + 2]
        )
    try:
        raw = vault.decrypt_for(data_key, sealed.ciphertext, f.model_field.aad(str(record[0])))
    except KeyShreddedError:
        return ERASED
    return f.model_field.decode(raw)


def _iso(value: datetime.date, zone=None) -> str:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return value.isoformat()


# --- Access (GDPR art. 15) -------------------------------------------------------------------
class Entry(dict):
    """One value of the export, with its field's metadata: a plain dict to every reader, that
    remembers its field plan so its metadata is encoded once per field (render_access_json)."""

    __slots__ = ("field_plan",)


def build_access_export(person) -> dict:
    """Everything the mutuelle holds on ``person`` and why (GDPR art. 15(1) and (3)).

    A constant number of queries: one for the beneficiaries, one per declared model (plus one
    per many-to-many field), one each for the audit events, the disclosures and the accounts
    that acted. Returns plain dicts and lists (JSON-ready, template-friendly).
    """
    ctx = _Export(person, portable=False)
    audit_queries = [_events_query(person), _disclosures_query(person)]
    accounts: dict[int, str] = {}

    def actors(results: list) -> list:
        for *_row, actor in results[0]:
            prefix, _sep, pk = actor.partition(":")
            if prefix == "user" and pk.isdigit():
                accounts[int(pk)] = actor
        return [_actors_query(sorted(accounts))] if accounts else []

    walked, (event_rows, disclosure_rows), actor_rows = _walk(
        ctx, [(plan, plan.fields) for plan in plans()], audit_queries, actors
    )
    holders = ctx.holders
    categories: dict[str, dict] = {}
    purposes_used: set[str] = set()
    for plan, rows in walked:
        for row in rows:
            records: dict[str, dict] = {}
            for f, value, erased in row.values:
                record = records.get(f.category.code)
                if record is None:
                    record = records[f.category.code] = {
                        "model": plan.label,
                        "model_code": plan.model._meta.label_lower,
                        "record_id": str(row.pk),
                        "holder": row.holder.label,
                        "held_under_your_contract": row.holder.beneficiary,
                        "entries": [],
                    }
                    _category(categories, f.category)["records"].append(record)
                entry = Entry(f.meta, value=value, erased=erased)
                entry.field_plan = f
                record["entries"].append(entry)
        if rows:
            purposes_used.update(
                p.code for decl in plan.declaration.fields.values() for p in decl.purposes
            )
    order = {c.code: i for i, c in enumerate(catalogue.ALL_CATEGORIES)}
    roles = _actor_roles(event_rows, accounts, actor_rows[0] if actor_rows else [], person)
    events = [
        {"seq": seq, "at": _iso(at, ctx.zone), "tag": tag, "actor": roles[actor]}
        for seq, at, tag, actor in event_rows
    ]
    if events:
        purposes_used.add(catalogue.SECURITY_LOGGING.code)
    return {
        "schema": ACCESS_SCHEMA,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "controller": _controller(),
        "subject": {"id": str(person.pk), "name": person.full_name},
        "beneficiaries": [
            {"id": h.pk, "name": h.name, "holder": h.label}
            for h in holders.values()
            if h.beneficiary
        ],
        "categories": sorted(categories.values(), key=lambda c: order.get(c["code"], 99)),
        "audit_log": {**_purpose_summary(catalogue.SECURITY_LOGGING), "events": events},
        "disclosures": _disclosures(disclosure_rows, ctx.zone),
        "information": _information(purposes_used),
    }


def _category(categories: dict[str, dict], category: catalogue.Category) -> dict:
    found = categories.get(category.code)
    if found is None:
        found = categories[category.code] = {
            "code": category.code,
            "label": category.label,
            "examples": category.examples,
            "sensitive": category.sensitive,
            "records": [],
        }
    return found


def _controller() -> dict:
    organisation = settings.MUTUALIS_ORGANISATION
    return {
        "name": organisation["name"],
        "address": organisation["address"],
        "dpo_email": organisation["dpo_email"],
    }


def _events_query(person):
    return _prepare(
        Event,
        "events",
        [person.pk],
        lambda keys: (
            Event.objects.filter(subject_id=keys[0])
            .order_by("seq")
            .values_list("seq", "at", "tag", "actor")
        ),
    )


def _disclosures_query(person):
    return _prepare(
        Disclosure,
        "disclosures",
        [person.pk],
        lambda keys: (
            Disclosure.objects.filter(subject_id=keys[0])
            .order_by("at", "pk")
            .values_list("at", "recipient", "categories", "reason")
        ),
    )


def _actors_query(user_ids: list[int]):
    return _prepare(
        User,
        "actors",
        user_ids,
        lambda keys: User._base_manager.filter(pk__in=keys).values_list(
            "pk", "kind", "role", "member__person"
        ),
    )


def _actor_roles(events: list, accounts: dict[int, str], rows: list, person) -> dict[str, str]:
    """Who acted, as a role: audit actors are ids, and a staff member's name is not the
    person's data."""
    fixed = {
        "system": "la mutuelle (traitement automatique)",
        "anonymous": "personne non connectée",
    }
    roles = {actor: fixed[actor] for *_row, actor in events if actor in fixed}
    for pk, kind, role, member_person in rows:
        if kind == UserKind.STAFF:
            text = _staff_role(role)
        else:
            text = SELF if str(member_person) == str(person.pk) else "un autre adhérent"
        roles[accounts[pk]] = text
    return {actor: roles.get(actor, "la mutuelle") for *_row, actor in events}


def _disclosures(rows: list, zone) -> list[dict]:
    recipients = {r.code: r.label for r in catalogue.ALL_RECIPIENTS}
    labels = {c.code: c.label for c in catalogue.ALL_CATEGORIES}
    return [
        {
            "at": _iso(at, zone),
            "recipient": recipients.get(recipient, recipient),
            "categories": [labels.get(code, code) for code in categories],
            "reason": reason,
        }
        for at, recipient, categories, reason in rows
    ]


def _purpose_summary(purpose: catalogue.Purpose) -> dict:
    basis = purpose.legal_basis
    return {
        "purpose": purpose.title,
        "legal_basis": {"article": basis.article, "label": basis.label} if basis else None,
        "retention": purpose.retention.summary if purpose.retention else "",
    }


_INFORMATION: dict[frozenset, dict] = {}


def _information(purposes_used: set[str]) -> dict:
    """The general information of GDPR art. 15(1)(a)-(h), from the catalogue: the same for
    everyone whose data serve the same purposes, so built once per set (and read-only)."""
    key = frozenset(purposes_used)
    found = _INFORMATION.get(key)
    if found is None:
        found = _INFORMATION[key] = _build_information(key)
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


def render_access_json(export: dict) -> bytes:
    """The export as UTF-8 JSON, keys sorted, indented down to one line per entry, event or
    disclosure (written by the C encoder: an export renders in about a millisecond)."""
    return _render(export, 0).encode("utf-8")


# Keys whose value is laid out over several lines; anything else is written on one line.
_EXPANDED = frozenset(
    {
        "audit_log",
        "beneficiaries",
        "categories",
        "disclosures",
        "entries",
        "events",
        "information",
        "notes",
        "purposes",
        "records",
        "rights",
    }
)
_CONTAINERS = frozenset({"records", "entries"})  # a list item holding these is laid out too
_ENTRY_SHARED = (
    "field",
    "field_code",
    "legal_bases",
    "model",
    "purposes",
    "recipients",
    "retention",
    "source",
)


def _render(value: dict, depth: int) -> str:
    pad = "\n" + "  " * (depth + 1)
    parts = []
    for key in sorted(value):
        item = value[key]
        if key == "information" and depth == 0 and isinstance(item, dict):
            text = _render_information(item, depth + 1)
        elif key in _EXPANDED and isinstance(item, list) and item:
            text = _render_list(key, item, depth + 1)
        elif key in _EXPANDED and isinstance(item, dict) and item:
            text = _render(item, depth + 1)
        else:
            text = _scalar(item)
        parts.append(f"{encode_basestring(key)}: {text}")
    return "{" + pad + ("," + pad).join(parts) + "\n" + "  " * depth + "}"


def _render_information(item: dict, depth: int) -> str:
    """The art. 15 information block is shared by exports (see _information): render it once."""
    cached = _RENDERED_INFORMATION.get(id(item))
    if cached is not None and cached[0] is item:
        return cached[1]
    text = _render(item, depth)
    if any(item is shared for shared in _INFORMATION.values()):
        _RENDERED_INFORMATION[id(item)] = (item, text)  # holds the block: its id stays its own
    return text


def _render_list(key: str, items: list, depth: int) -> str:
    pad = "\n" + "  " * (depth + 1)
    parts = []
    for item in items:
        if key == "entries" and isinstance(item, dict) and set(item) == _ENTRY_KEYS:
            parts.append(_render_entry(item))
        elif key == "records" and isinstance(item, dict) and set(item) == _RECORD_KEYS:
            parts.append(_render_record(item, depth + 1))
        elif isinstance(item, dict) and not _CONTAINERS.isdisjoint(item):
            parts.append(_render(item, depth + 1))
        else:
            parts.append(_scalar(item))
    return "[" + pad + ("," + pad).join(parts) + "\n" + "  " * depth + "]"


_ENTRY_KEYS = {*_ENTRY_SHARED, "erased", "value"}
_RECORD_KEYS = {"entries", "held_under_your_contract", "holder", "model", "model_code", "record_id"}


def _render_record(record: dict, depth: int) -> str:
    """A record of a category, its keys in sorted order (the shape build_access_export makes)."""
    pad = "\n" + "  " * (depth + 1)
    entries = _render_list("entries", record["entries"], depth + 1) if record["entries"] else "[]"
    held = (
        "true"
        if record["held_under_your_contract"] is True
        else _scalar(record["held_under_your_contract"])
    )
    return (
        "{"
        + pad
        + '"entries": '
        + entries
        + ","
        + pad
        + '"held_under_your_contract": '
        + held
        + ","
        + pad
        + '"holder": '
        + _scalar(record["holder"])
        + ","
        + pad
        + '"model": '
        + _scalar(record["model"])
        + ","
        + pad
        + '"model_code": '
        + _scalar(record["model_code"])
        + ","
        + pad
        + '"record_id": '
        + _scalar(record["record_id"])
        + "\n"
        + "  " * depth
        + "}"
    )


_LITERALS = {True: "true", False: "false", None: "null"}


def _scalar(value) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is int:
        return str(value)
    return _COMPACT(value)


_RENDERED_INFORMATION: dict[int, tuple[dict, str]] = {}


def _render_entry(entry: dict) -> str:
    """One entry on one line; its field's metadata was encoded once, with the plan."""
    f = getattr(entry, "field_plan", None)
    meta = f.meta if f is not None else None
    if meta is None or not all(entry[k] is meta[k] for k in _ENTRY_SHARED):
        shared = _COMPACT({k: entry[k] for k in _ENTRY_SHARED})[1:-1]  # changed by its reader
    else:
        shared = f.meta_json
    erased = "true" if entry["erased"] else "false"
    return f'{{"erased": {erased}, {shared}, "value": {_scalar(entry["value"])}}}'


# --- For the HTML page -----------------------------------------------------------------------
NOT_GIVEN = "Non renseigné"


def display(value) -> str:
    """An exported value as a French reader expects it."""
    if value is None or value == "" or value == []:
        return NOT_GIVEN
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    if isinstance(value, dict):
        return f"{value.get('name') or 'fichier'} ({value.get('size', 0)} octets)"
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return date_format(datetime.date.fromisoformat(value), "j F Y")
            moment = datetime.datetime.fromisoformat(value)
            return date_format(timezone.localtime(moment), "j F Y à H:i")
        except ValueError:
            pass
    return str(value)


def access_page_context(export: dict) -> dict:
    """The export with a French ``display`` text for every value, for
    ``rights/access_export.html``: ``{% include "rights/access_export.html" with access=... %}``.
    """
    categories = []
    for category in export["categories"]:
        records = [
            {
                **record,
                "entries": [{**e, "display": display(e["value"])} for e in record["entries"]],
            }
            for record in category["records"]
        ]
        categories.append({**category, "records": records})
    events = [{**e, "display_at": display(e["at"])} for e in export["audit_log"]["events"]]
    disclosures = [{**d, "display_at": display(d["at"])} for d in export["disclosures"]]
    return {
        **export,
        "categories": categories,
        "audit_log": {**export["audit_log"], "events": events},
        "disclosures": disclosures,
        "display_generated_at": display(export["generated_at"]),
    }


# --- Portability (GDPR art. 20) --------------------------------------------------------------
CSV_COLUMNS = (
    "record_type",
    "record_type_label",
    "record_id",
    "holder",
    "holder_name",
    "field",
    "label",
    "type",
    "value",
    "value_label",
)


def portability_archive(person) -> bytes:
    """A zip of the data ``person`` provided, processed on contract or consent (GDPR art. 20):
    per category ``<code>.json`` and ``<code>.csv``, the files themselves under ``files/``, and
    ``manifest.json``. The schema is documented in ``docs/portability.md``.
    """
    ctx = _Export(person, portable=True)
    generated_at = timezone.localtime().replace(microsecond=0)
    by_category: dict[str, list[dict]] = {}
    files: dict[str, bytes] = {}
    wanted = [(plan, tuple(f for f in plan.fields if f.portable)) for plan in plans()]
    walked, _none, _nothing = _walk(ctx, [(plan, fields) for plan, fields in wanted if fields])
    for plan, rows in walked:
        for row in rows:
            per_category: dict[str, dict] = {}
            for f, value, _erased in row.values:
                record = per_category.get(f.category.code)
                if record is None:
                    record = per_category[f.category.code] = {
                        "record_type": plan.model._meta.label_lower,
                        "record_type_label": plan.label,
                        "record_id": str(row.pk),
                        "holder": "beneficiary" if row.holder.beneficiary else "self",
                        "holder_name": row.holder.name,
                        "fields": [],
                    }
                    by_category.setdefault(f.category.code, []).append(record)
                label = ""
                if f.kind == CHOICE:
                    label = f.choices.get(value, "")
                elif f.kind == BINARY and value is not None:
                    path = f"files/{row.pk}/{f.name}"
                    files[path] = value.pop("content")
                    value["path"] = path
                record["fields"].append(
                    {
                        "field": f.name,
                        "label": f.label,
                        "type": f.type_name,
                        "value": value,
                        "value_label": label,
                    }
                )
    return _zip(by_category, files, generated_at, person)


def _csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        for item in record["fields"]:
            value = item["value"]
            if isinstance(value, list | dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = ""
            writer.writerow(
                [
                    *(record[c] for c in CSV_COLUMNS[:5]),
                    item["field"],
                    item["label"],
                    item["type"],
                    value,
                    item["value_label"],
                ]
            )
    return out.getvalue().encode("utf-8")


def _zip(by_category, files, generated_at, person) -> bytes:
    labels = {c.code: c.label for c in catalogue.ALL_CATEGORIES}
    order = [c.code for c in catalogue.ALL_CATEGORIES]
    contents: list[tuple[str, bytes, dict]] = []
    for code in sorted(by_category, key=lambda c: order.index(c) if c in order else len(order)):
        records = by_category[code]
        document = {
            "schema_version": PORTABILITY_SCHEMA_VERSION,
            "category": code,
            "category_label": labels.get(code, code),
            "records": records,
        }
        info = {"category": code, "category_label": labels.get(code, code), "records": len(records)}
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2).encode()
        contents.append((f"{code}.json", body, {**info, "format": "json"}))
        contents.append((f"{code}.csv", _csv(records), {**info, "format": "csv"}))
    for path, content in sorted(files.items()):
        contents.append((path, content, {"format": "file"}))
    manifest = {
        "schema_version": PORTABILITY_SCHEMA_VERSION,
        "generated_at": generated_at.isoformat(),
        "controller": _controller(),
        "subject": {"id": str(person.pk), "name": person.full_name},
        "legal_basis": "RGPD art. 20 : données fournies par vous, traitées sur la base de votre "
        "contrat ou de votre consentement",
        "files": [
            {"name": name, **info, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body, info in contents
        ],
    }
    stamp = generated_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in [("manifest.json", _dumps(manifest)), *[(n, b) for n, b, _ in contents]]:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), body, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
