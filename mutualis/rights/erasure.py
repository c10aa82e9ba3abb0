"""Erasure (GDPR art. 17), planned from the privacy declaration and then carried out.

:func:`plan` walks every declared model that leads to a person (``subject_field``) and decides,
for each of the person's records, whether it goes or stays, and why. A record stays only for one
of these reasons, tried in this order:

1. a legal hold (litigation, authority request) names the person or the record (art. 17(3)(e));
2. a contract of the person (as member or beneficiary) is still running and the record serves
   it: erasure does not apply to data still necessary for the contract (art. 17(1)(a),
   6(1)(b)); it stays active, not archived;
3. a field of the record declares ``kept_for``: a legal obligation keeps it (art. 17(3)(b));
4. the record's retention rule has an intermediate archive and its clock has started (a
   contract ended, a complaint closed), or it serves a legal obligation: it is kept for legal
   claims or that obligation until the end of the archive (art. 17(3)(b)(e));
5. it goes with the person (a row that cascades from the person and has no clock of its own,
   such as the consent history or post-mortem directives) and the person stays;
6. the member-space account stays while a contract runs, and is closed otherwise;
7. the person's own structure: a member record stays while contracts or mandates refer to it,
   a beneficiary link while a contract covers it, and the person row while anything above
   stays (then only their identity is kept, to tie the kept records to them: contact details,
   NIR and scheme are cleared, unless a contract runs).

Everything else is erased at once: rows are deleted (with what cascades from them, never a row
that stays), fields of a staying person are cleared. Kept records with an ``archived_at`` field
move to the intermediate archive with their end date; the person's remaining data is restricted
to storage (:mod:`mutualis.privacy.restrictions`) when no contract runs. When nothing remains,
the person's data key is shredded and the person deleted (crypto-shredding). The member-space
account is closed once no contract runs.

The plan is also the member-space preview: "what will be erased, what will be kept and why".
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, router
from django.db.models import Q
from django.db.models.deletion import Collector, ProtectedError
from django.utils import timezone
from django.utils.formats import date_format

from mutualis.contracts.models import Contract
from mutualis.lib.dates import add_months
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.privacy import catalogue, registry
from mutualis.privacy.declaration import Category, LegalBasis, ModelDeclaration
from mutualis.privacy.models import LegalHold
from mutualis.rights.export import field_label
from mutualis.vault.blind_index import BlindIndexField

ARCHIVED_FIELD = "archived_at"
# Categories of a staying person kept to tie the kept records to them.
IDENTITY_KEPT = frozenset({catalogue.IDENTITY, catalogue.CONTRACT_DATA})


class Reason:
    """Why a record stays (French, as the answer and the preview say it)."""

    HOLD = "gel"
    CONTRACT = "contrat"
    LEGAL = "obligation"
    ARCHIVE = "archive"
    WITH_PERSON = "avec_la_personne"
    STRUCTURE = "structure"
    PROOF = "preuve"
    ACCOUNT = "compte"  # the member-space account: closed by the caller, never deleted here


@dataclass
class Fate:
    """What happens to one record of the person."""

    declaration: ModelDeclaration
    obj: models.Model
    keep: bool
    reason: str = ""  # a Reason code
    why: str = ""  # the French explanation
    until: datetime.date | None = None
    archive: bool = False
    # For a staying record: the fields cleared all the same (the person row).
    cleared: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.declaration.model.lower()

    @property
    def model_title(self) -> str:
        return str(self.obj._meta.verbose_name)

    def field_labels(self, names=None) -> list[str]:
        names = self.declaration.fields if names is None else names
        labels = []
        for name in names:
            model_field = self.obj._meta.get_field(name)
            if isinstance(model_field, BlindIndexField):
                continue
            labels.append(field_label(self.obj._meta.label_lower, model_field))
        return labels

    def categories(self, names=None) -> list[Category]:
        names = self.declaration.fields if names is None else names
        found = []
        for name in names:
            category = self.declaration.fields[name].category
            if category not in found:
                found.append(category)
        return found


@dataclass
class Group:
    """One line of the preview or answer: a kind of record, and why it stays (if it does)."""

    title: str
    fields: list[str]
    why: str = ""
    until: datetime.date | None = None

    @property
    def until_label(self) -> str:
        return date_format(self.until, "j F Y") if self.until else ""


@dataclass
class Plan:
    person: Person
    fates: list[Fate]
    running_contracts: list[Contract]
    account_closes: bool
    nothing_remains: bool

    @property
    def erased(self) -> list[Group]:
        groups: dict[str, Group] = {}
        for fate in self.fates:
            names = fate.cleared if fate.keep else list(fate.declaration.fields)
            labels = fate.field_labels(names)
            if not labels:
                continue
            group = groups.setdefault(fate.model_title, Group(fate.model_title, []))
            group.fields += [label for label in labels if label not in group.fields]
        return list(groups.values())

    @property
    def kept(self) -> list[Group]:
        groups: dict[tuple, Group] = {}
        for fate in self.fates:
            if not fate.keep:
                continue
            names = [n for n in fate.declaration.fields if n not in fate.cleared]
            labels = fate.field_labels(names)
            key = (fate.model_title, fate.why, fate.until)
            group = groups.setdefault(key, Group(fate.model_title, [], fate.why, fate.until))
            group.fields += [label for label in labels if label not in group.fields]
        return list(groups.values())

    @property
    def partial(self) -> bool:
        """Whether something stays other than the proof of the person's own requests."""
        return any(f.keep and f.reason != Reason.PROOF for f in self.fates)


# --- Planning --------------------------------------------------------------------------------
def _subject_lookup(declaration: ModelDeclaration) -> str:
    return "pk" if declaration.subject_field == "id" else f"{declaration.subject_field}__pk"


def _walked() -> list[ModelDeclaration]:
    return [
        d
        for d in registry.all_declarations()
        if d.holds_personal_data and d.subject_field and d.fields
    ]


def _anchor_value(obj: models.Model, path: str):
    value = obj
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _end_of(declaration: ModelDeclaration, obj: models.Model) -> datetime.date | None:
    rule = declaration.retention_rule
    if rule is None or not declaration.retention_anchor:
        return None
    anchor = _anchor_value(obj, declaration.retention_anchor)
    if anchor is None:
        return None
    day = timezone.localdate(anchor) if isinstance(anchor, datetime.datetime) else anchor
    months = rule.active.months + rule.archive.months
    days = rule.active.days + rule.archive.days
    return add_months(day, months) + datetime.timedelta(days=days)


def _has_field(obj: models.Model, name: str) -> bool:
    return any(f.name == name for f in obj._meta.get_fields())


def _serves_contract(declaration: ModelDeclaration) -> bool:
    return any(catalogue.CONTRACT in d.purposes for d in declaration.fields.values())


def _cascades_from_person(declaration: ModelDeclaration) -> bool:
    if declaration.subject_field != "person" or declaration.retention_anchor:
        return False
    model = apps.get_model(declaration.model)
    if model._meta.app_label == "members":
        return False
    relation = model._meta.get_field("person")
    return relation.remote_field.on_delete is models.CASCADE


def erased_categories(erasure: Plan) -> list[Category]:
    """The categories of the data an erasure removes: what the recipients that received them
    must be told of (GDPR art. 19)."""
    found: list[Category] = []
    for fate in erasure.fates:
        names = fate.cleared if fate.keep else list(fate.declaration.fields)
        for category in fate.categories(names):
            if category not in found:
                found.append(category)
    return found


def running_contracts(person: Person) -> list[Contract]:
    """Contracts covering the person (as member or beneficiary) that have not ended."""
    today = timezone.localdate()
    return list(
        Contract.objects.of_person(person).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
    )


def _decide(
    declaration: ModelDeclaration,
    obj: models.Model,
    *,
    running: bool,
    person_held: LegalHold | None,
    held_rows: set[str],
) -> Fate:
    label = obj._meta.label_lower
    if person_held is not None or f"{label}:{obj.pk}" in held_rows:
        return Fate(
            declaration,
            obj,
            keep=True,
            reason=Reason.HOLD,
            why="gel de conservation pour une procédure en cours (contentieux ou réquisition "
            "d'une autorité) : RGPD art. 17(3)(e)",
        )
    if running and _serves_contract(declaration):
        return Fate(
            declaration,
            obj,
            keep=True,
            reason=Reason.CONTRACT,
            why="nécessaires à l'exécution de votre contrat en cours : l'effacement ne "
            "s'applique pas tant qu'il court (RGPD art. 17(1)(a) et 6(1)(b)) ; ils seront "
            "effacés au terme des durées légales qui suivent sa fin",
        )
    until = _end_of(declaration, obj)
    archive = until is not None and _has_field(obj, ARCHIVED_FIELD)
    kept_for = next((d.kept_for for d in declaration.fields.values() if d.kept_for), "")
    if kept_for:
        proof = declaration.model.lower().startswith("rights.")
        return Fate(
            declaration,
            obj,
            keep=True,
            reason=Reason.PROOF if proof else Reason.LEGAL,
            why=kept_for if proof else f"obligation légale (RGPD art. 17(3)(b)) : {kept_for}",
            until=until,
            archive=archive,
        )
    rule = declaration.retention_rule
    purpose = declaration.purpose
    legal = purpose is not None and purpose.legal_basis == LegalBasis.LEGAL_OBLIGATION
    if rule is not None and not rule.archive.is_zero and (until is not None or legal):
        return Fate(
            declaration,
            obj,
            keep=True,
            reason=Reason.ARCHIVE,
            why="archive intermédiaire à accès restreint, pour la constatation, l'exercice ou "
            f"la défense de droits en justice (RGPD art. 17(3)(b) et (e)) : {rule.source}",
            until=until,
            archive=archive,
        )
    if _cascades_from_person(declaration):
        return Fate(
            declaration,
            obj,
            keep=True,
            reason=Reason.WITH_PERSON,
            why="conservées tant que votre dossier l'est, et supprimées avec lui",
        )
    return Fate(declaration, obj, keep=False)


def plan(person: Person) -> Plan:
    """What an erasure of ``person``'s data would erase and keep now, and why (see module)."""
    running = running_contracts(person)
    holds = LegalHold.objects.active()
    person_held = holds.filter(subject_id=str(person.pk)).first()
    held_rows = set(holds.exclude(target="").values_list("target", flat=True))
    fates: list[Fate] = []
    structure: list[tuple[ModelDeclaration, models.Model]] = []
    for declaration in _walked():
        model = apps.get_model(declaration.model)
        rows = model._default_manager.filter(**{_subject_lookup(declaration): person.pk})
        for obj in rows.order_by("pk"):
            if model is User:
                fates.append(_account_fate(declaration, obj, running=bool(running)))
                continue
            if model in (Person, Member, Beneficiary):
                structure.append((declaration, obj))
                continue
            fates.append(
                _decide(
                    declaration,
                    obj,
                    running=bool(running),
                    person_held=person_held,
                    held_rows=held_rows,
                )
            )
    staying = [f for f in fates if f.keep and f.reason not in (Reason.PROOF, Reason.WITH_PERSON)]
    until = max((f.until for f in staying if f.until), default=None)
    person_stays = False
    for declaration, obj in sorted(structure, key=lambda item: item[0].model != "members.Person"):
        fate = _decide(
            declaration, obj, running=bool(running), person_held=person_held, held_rows=held_rows
        )
        if fate.keep:
            pass
        elif isinstance(obj, Member) and (obj.contracts.exists() or obj.mandates.exists()):
            fate = _structure(declaration, obj, "votre adhésion", until)
            fate.cleared = ["account"]  # the account closes: the link goes
        elif isinstance(obj, Beneficiary) and obj.contracts.exists():
            fate = _structure(declaration, obj, "le contrat qui vous couvre", until)
        elif isinstance(obj, Person) and (staying or _protected(obj)):
            fate = _structure(declaration, obj, "les pièces conservées ci-dessus", until)
            fate.cleared = [
                name
                for name, decl in declaration.fields.items()
                if decl.category not in IDENTITY_KEPT
            ]
        person_stays = person_stays or (isinstance(obj, Person) and fate.keep)
        fates.append(fate)
    for fate in fates:
        if fate.reason == Reason.WITH_PERSON and not person_stays:
            fate.keep, fate.why = False, ""  # deleted with the person (a cascade)
    return Plan(
        person=person,
        fates=fates,
        running_contracts=running,
        account_closes=not running and account_of(person) is not None,
        nothing_remains=not person_stays,
    )


def _account_fate(declaration, account, *, running: bool) -> Fate:
    """The member-space account stays while a contract runs; otherwise it is closed (by
    ``members.services.close_account``): its address and password go, the row is swept later."""
    if running:
        return Fate(
            declaration,
            account,
            keep=True,
            reason=Reason.CONTRACT,
            why="votre accès à l'espace adhérent, pour la gestion de votre contrat en cours",
        )
    return Fate(declaration, account, keep=False, reason=Reason.ACCOUNT)


def _structure(declaration, obj, what: str, until) -> Fate:
    return Fate(
        declaration,
        obj,
        keep=True,
        reason=Reason.STRUCTURE,
        why=f"seules les données qui permettent de vous rattacher {what} sont conservées, le "
        "temps que ces pièces le sont",
        until=until,
    )


def _protected(person: Person) -> bool:
    """Whether a record outside the plan still needs the person row (a child attached to the
    person's NIR, another member's contract naming them...)."""
    return Person.objects.filter(nir_holder=person).exists()


def account_of(person: Person):
    member = Member.objects.filter(person=person).select_related("account").first()
    return member.account if member is not None and member.account_id else None


# --- Carrying out ----------------------------------------------------------------------------
@dataclass
class Outcome:
    deleted: Counter = field(default_factory=Counter)
    cleared: dict[str, list[str]] = field(default_factory=dict)
    archived: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)


def _kept_keys(fates: list[Fate]) -> set[tuple[str, str]]:
    return {(f.obj._meta.label_lower, str(f.obj.pk)) for f in fates if f.keep}


def _would_remove_kept(obj: models.Model, kept: set[tuple[str, str]]) -> bool:
    """Whether deleting ``obj`` would cascade to a record that must stay."""
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except ProtectedError:
        return True
    for model, instances in collector.data.items():
        for instance in instances:
            if (model._meta.label_lower, str(instance.pk)) in kept and instance != obj:
                return True
    kept_by_model: dict[str, set[str]] = {}
    for label, pk in kept:
        kept_by_model.setdefault(label, set()).add(pk)
    for qs in collector.fast_deletes:
        pks = kept_by_model.get(qs.model._meta.label_lower)
        if pks and qs.filter(pk__in=pks).exists():
            return True
    return False


def clear_fields(obj: models.Model, names: list[str]) -> list[str]:
    """Blank the named fields of ``obj`` where the model allows it; return those cleared."""
    values = {}
    for name in names:
        model_field = obj._meta.get_field(name)
        if isinstance(model_field, BlindIndexField):
            continue  # recomputed from its source
        if model_field.null:
            values[name] = None
        elif isinstance(model_field, models.CharField | models.TextField):
            values[name] = ""
    if not values:
        return []
    for name, value in values.items():
        setattr(obj, name, value)
    update = list(values)
    update += [
        f.name
        for f in obj._meta.concrete_fields
        if isinstance(f, BlindIndexField) or getattr(f, "auto_now", False)
    ]
    obj.save(update_fields=sorted(set(update)))
    return sorted(values)


def carry_out(erasure: Plan) -> Outcome:
    """Apply a plan made in the same transaction (the caller locks and audits)."""
    result = Outcome()
    now = timezone.now()
    fates = list(erasure.fates)
    kept = _kept_keys(fates)
    # Records that go, except the person's structure (handled last, once nothing needs it).
    order = {"members.beneficiary": 1, "members.member": 2, "members.person": 3}
    for fate in sorted(fates, key=lambda f: order.get(f.label, 0)):
        obj = fate.obj
        if fate.keep:
            if fate.cleared:
                cleared = clear_fields(obj, fate.cleared)
                fate.cleared = cleared
                if cleared:
                    result.cleared[fate.declaration.model] = cleared
            if fate.archive and getattr(obj, ARCHIVED_FIELD, None) is None:
                type(obj)._base_manager.filter(pk=obj.pk).update(**{ARCHIVED_FIELD: now})
                result.archived[fate.declaration.model] += 1
            result.kept[fate.declaration.model] += 1
            continue
        if isinstance(obj, Person) or fate.reason in (Reason.WITH_PERSON, Reason.ACCOUNT):
            continue  # the person is crypto-shredded by the caller; these rows go with it
        if not type(obj)._base_manager.filter(pk=obj.pk).exists():
            result.deleted[fate.declaration.model] += 1  # gone with a parent
            continue
        if _would_remove_kept(obj, kept):
            fate.keep, fate.reason = True, Reason.STRUCTURE
            fate.why = "lié à une pièce conservée ci-dessus"
            result.kept[fate.declaration.model] += 1
            continue
        type(obj)._base_manager.filter(pk=obj.pk).delete()
        result.deleted[fate.declaration.model] += 1
    return result


def person_is_unreferenced(person: Person, *, ignoring: tuple[str, ...] = ()) -> bool:
    """Whether no record keeps the person row any more (cascading relations and the names in
    ``ignoring`` aside)."""
    for relation in Person._meta.related_objects:
        if relation.on_delete is models.CASCADE or relation.name in ignoring:
            continue
        accessor = relation.get_accessor_name()
        if relation.one_to_one:
            if relation.related_model._base_manager.filter(
                **{relation.field.name: person}
            ).exists():
                return False
        elif getattr(person, accessor).exists():
            return False
    return True
