"""The ground's own promise checks: T2 (retention), T5 (erasure), T9 (restriction), T11 (audit
log), T12 (published policy). Registered when the privacy app is ready; see
:mod:`mutualis.privacy.promises` for the table of every promise.

Each check reads the live data only. The privacy app never imports a domain app: the models it
looks at are found through the registry of declarations and the app registry.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone

from mutualis.audit.tags import AuditTag
from mutualis.lib.french import plural
from mutualis.privacy import catalogue, policy, registry, restrictions, retention
from mutualis.privacy.declaration import ModelDeclaration
from mutualis.privacy.models import PolicyVersion, Restriction
from mutualis.privacy.promises import Finding, register, sample

# --- T2: retention stages ---------------------------------------------------------------------
# The e-mail rules are checked by T1 (with the mailbox and the backups), not twice.
EMAIL_RULES = (catalogue.RETENTION_INBOUND_EMAIL, catalogue.RETENTION_INBOUND_EMAIL_FILES)


def stage_breaches(target: retention.Target, now: datetime.datetime) -> tuple[int, list[str]]:
    """Rows of one retention target past their stage: ``(rows looked at, breach lines)``."""
    if target.declaration.retention_handler:
        handler = retention.import_string(target.declaration.retention_handler)
        rows, _ = handler(before=retention.cutoff(now, target.total), batch_size=1, dry_run=True)
        if not rows:
            return 0, []
        return rows, [
            f"{target.label} : {rows} enregistrement{plural(rows)} au-delà de leur durée "
            f"({target.rule.summary})"
        ]
    checked = target.model._default_manager.filter(
        **dict(target.declaration.retention_scope)
    ).count()
    stages = [("à supprimer ou anonymiser", target.due_for_end(now))]
    if target.has_archive and retention.has_field(target.model, retention.ARCHIVED_FIELD):
        stages.insert(0, ("à archiver", target.due_for_archive(now)))
    lines = []
    for label, qs in stages:
        count = qs.count()
        if count:
            lines.append(
                f"{target.label} : {count} enregistrement{plural(count)} {label} "
                f"(n° {sample(qs)}) — "
                f"{target.rule.summary}"
            )
    return checked, lines


@register("T2", section="2", title="Aucune donnée conservée au-delà de sa durée")
def records_past_their_stage(now: datetime.datetime) -> Finding:
    checked, breaches = 0, []
    for target in retention.targets():
        if target.rule in EMAIL_RULES:
            continue
        rows, lines = stage_breaches(target, now)
        checked += rows
        breaches += lines
    return Finding(checked, breaches)


# --- T5: an erased person has no readable personal data left ---------------------------------
PERSON_MODEL = "members.Person"
# Shapes of contact data that an audit event must never carry in clear (people by id only).
_EMAIL = re.compile(r"[^\s@\"]+@[^\s@\"]+\.[a-z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
_PHONE_SQL = r"(\+33|0)[1-9]([ .-]?[0-9]{2}){4}"
_READABLE_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _person_path(model: type[models.Model], path: str) -> str | None:
    """``path`` if it leads from ``model`` to a person (a relation ending on members.Person)."""
    if not path:
        return None
    if model._meta.label == PERSON_MODEL:
        return "pk" if path == "id" else None
    current = model
    for part in path.split("__"):
        field_obj = current._meta.get_field(part)
        if not (field_obj.is_relation and field_obj.related_model is not None):
            return None
        current = field_obj.related_model
    return path if current._meta.label == PERSON_MODEL else None


def _readable(declaration: ModelDeclaration, model: type[models.Model]) -> Q | None:
    """Rows holding a readable value in one of the declared clear personal fields (those no legal
    obligation keeps: a ``kept_for`` field is the mutuelle's proof, GDPR art. 17(3)): text, and
    file contents stored in the database (an attachment, the scan a consent rests on)."""
    condition = None
    for name, decl in declaration.fields.items():
        field_obj = model._meta.get_field(name)
        if decl.encrypted or decl.kept_for or getattr(field_obj, "is_encrypted", False):
            continue
        if field_obj.is_relation or not isinstance(field_obj, _READABLE_FIELDS):
            continue
        empty: object = ""
        if isinstance(field_obj, models.JSONField):
            empty = {}
        elif isinstance(field_obj, models.BinaryField):
            empty = b""
        has_value = ~Q(**{name: empty}) & Q(**{f"{name}__isnull": False})
        condition = has_value if condition is None else condition | has_value
    return condition


def _rows_on_shredded_keys(now: datetime.datetime) -> tuple[int, list[str]]:
    """Rows still pointing at a destroyed data key (crypto-shredding means the row is gone)."""
    from mutualis.vault.models import DataKey

    checked, lines = 0, []
    for model in apps.get_models():
        if not model.__module__.startswith("mutualis."):
            continue
        for field_obj in model._meta.concrete_fields:
            if field_obj.is_relation and field_obj.related_model is DataKey:
                checked += model._default_manager.count()
                qs = model._default_manager.filter(
                    **{f"{field_obj.name}__wrapped_key__isnull": True}
                )
                count = qs.count()
                if count:
                    lines.append(
                        f"{model._meta.label} : {count} enregistrement{plural(count)} d'une "
                        f"personne effacée encore présent{plural(count)} (n° {sample(qs)})"
                    )
    return checked, lines


def _clear_fields_of_shredded_people() -> list[str]:
    """Readable data (names, addresses, messages, complaints, consent records, and the files
    stored with them) of a person whose key is destroyed, in every declared model that leads to
    a person."""
    lines = []
    for declaration in registry.all_declarations():
        if not declaration.holds_personal_data or not declaration.fields:
            continue
        model = apps.get_model(declaration.model)
        path = _person_path(model, declaration.subject_field)
        condition = _readable(declaration, model)
        if path is None or condition is None:
            continue
        shredded = (
            "data_key__wrapped_key__isnull"
            if path == "pk"
            else (f"{path}__data_key__wrapped_key__isnull")
        )
        lookups = {shredded: True}
        if path != "pk":
            lookups[f"{path}__isnull"] = False
        qs = model._default_manager.filter(condition, **lookups)
        count = qs.count()
        if count:
            lines.append(
                f"{model._meta.label} : {count} enregistrement{plural(count)} "
                f"lisible{plural(count)} d'une personne effacée (n° {sample(qs)})"
            )
    return lines


def _orphaned_correspondence() -> list[str]:
    """Threads whose person was deleted but whose messages were not: nobody to answer any more,
    and the correspondence of an erased person still readable (contact.Inquiry, ``SET_NULL``)."""
    if not apps.is_installed("mutualis.contact"):
        return []
    inquiry = apps.get_model("contact", "Inquiry")
    qs = inquiry._default_manager.filter(
        person__isnull=True,
        contact_name="",
        contact_email="",
        contact_phone="",
        contact_address="",
    ).filter(Q(messages__body__gt="") | ~Q(subject=""))
    qs = qs.distinct()
    count = qs.count()
    if not count:
        return []
    return [
        f"{inquiry._meta.label} : {count} échange{plural(count)} sans personne ni contact encore "
        f"lisible{plural(count)}, reste{plural(count)} d'une personne effacée (n° {sample(qs)})"
    ]


def _audit_details_of_erased_people() -> list[str]:
    """Audit events about a person who no longer exists, whose details carry an e-mail address
    or a telephone number in clear (events name people by id, never by their data)."""
    event = apps.get_model("audit", "Event")
    person = apps.get_model(PERSON_MODEL)
    candidates = (
        event._default_manager.exclude(subject_id="")
        .annotate(text=Cast("details", output_field=models.TextField()))
        .filter(Q(text__contains="@") | Q(text__regex=_PHONE_SQL))
        .values_list("id", "subject_id", "text")
    )
    shaped: dict[str, list[int]] = {}
    for pk, subject_id, text in candidates.iterator(chunk_size=2000):
        if _EMAIL.search(text or "") or _PHONE.search(text or ""):
            shaped.setdefault(subject_id, []).append(pk)
    if not shaped:
        return []
    ids = []
    for subject_id in shaped:
        try:
            ids.append(uuid.UUID(subject_id))
        except ValueError:
            continue
    living = {
        str(pk) for pk in person._default_manager.filter(pk__in=ids).values_list("pk", flat=True)
    }
    found = sorted(
        pk for subject_id, pks in shaped.items() if subject_id not in living for pk in pks
    )
    if not found:
        return []
    shown = ", ".join(str(pk) for pk in found[:5]) + (" …" if len(found) > 5 else "")
    return [
        f"audit.Event : {len(found)} événement{plural(len(found))} sur une personne effacée "
        "portant une adresse "
        f"ou un numéro en clair (n° {shown})"
    ]


@register("T5", section="5", title="Personne effacée : plus aucune donnée lisible")
def erased_people_have_nothing_readable(now: datetime.datetime) -> Finding:
    checked, breaches = _rows_on_shredded_keys(now)
    breaches += _clear_fields_of_shredded_people()
    breaches += _orphaned_correspondence()
    breaches += _audit_details_of_erased_people()
    return Finding(checked, breaches)


# --- T9: a restricted person's data is only stored (GDPR art. 18) ---------------------------
DISCLOSURE_USE = str(AuditTag.DISCLOSURE_CREATE)


def _override_entry(restriction: Restriction, use: str, override_at: str) -> dict | None:
    """The DPO's override an ``OVERRIDE_USE`` event names (by its time), if it covers ``use``."""
    for entry in restriction.overrides or []:
        if entry.get("at") == override_at and entry.get("use") in (use, restrictions.ALL_PURPOSES):
            return entry
    return None


def _override_valid_at(entry: dict, at: datetime.datetime) -> bool:
    """Whether the override was in force at ``at``: granted before, not yet past its ``until``."""
    if datetime.datetime.fromisoformat(entry["at"]) > at:
        return False
    until = entry.get("until")
    return not until or datetime.datetime.fromisoformat(until) >= at


def _disclosure_covered(restriction: Restriction, details: dict) -> bool:
    """Whether a disclosure falls under the restriction: the guard stands before a disclosure for
    each purpose its recipient serves (``audit.record_disclosure``), so one to a recipient of
    other purposes only is not stopped by a restriction on one purpose."""
    if restriction.purpose == restrictions.ALL_PURPOSES:
        return True
    recipient = (details or {}).get("recipient")
    return any(
        purpose.code == restriction.purpose and any(r.code == recipient for r in purpose.recipients)
        for purpose in catalogue.ALL_PURPOSES
    )


def _unallowed_uses(
    restriction: Restriction, uses: set[str], now: datetime.datetime
) -> list[tuple[int, str]]:
    """Audit events of a processing use of the person's data while the restriction was in force
    (from its start to its lifting, or ``now``) that no DPO override allowed.

    The guard records one ``OVERRIDE_USE`` event each time it lets a use through under an
    override, just before the use. Walking the person's events in order, each use takes one such
    event of its own use, recorded for this restriction, whose override was still in force at
    the time of the use; a use left without one was made around the guard, or after its override
    had expired. A disclosure is paired by the use it was part of (``details["use"]``: a rights
    check, a requisition's export), or by the disclosure itself.
    """
    event = apps.get_model("audit", "Event")
    end = restriction.lifted_at if restriction.lifted_at is not None else now
    target = f"{Restriction._meta.label_lower}:{restriction.pk}"
    rows = (
        event._default_manager.filter(
            subject_id=restriction.subject_id,
            at__gte=restriction.started_at,
            at__lte=end,
        )
        .filter(
            Q(tag__in=sorted(uses)) | Q(tag=restrictions.RestrictionTag.OVERRIDE_USE, target=target)
        )
        .order_by("id")
        .values_list("id", "tag", "at", "details")
    )
    allowances: list[tuple[str, dict]] = []  # (use, override entry), in the order recorded
    unallowed = []
    for pk, tag, at, details in rows.iterator(chunk_size=2000):
        details = details or {}
        if tag == restrictions.RestrictionTag.OVERRIDE_USE:
            use = str(details.get("use", ""))
            entry = _override_entry(restriction, use, str(details.get("override_at", "")))
            if entry is not None:
                allowances.append((use, entry))
            continue
        use = tag
        if tag == DISCLOSURE_USE:
            if not _disclosure_covered(restriction, details):
                continue
            use = str(details.get("use") or DISCLOSURE_USE)
        match = next(
            (
                i
                for i, (allowed, entry) in enumerate(allowances)
                if allowed == use and _override_valid_at(entry, at)
            ),
            None,
        )
        if match is None:
            unallowed.append((pk, tag))
        else:
            del allowances[match]
    return unallowed


@register("T9", section="5", title="Limitation : données seulement conservées")
def restricted_people_are_only_stored(now: datetime.datetime) -> Finding:
    """Every restriction that has started, in force or lifted since: a use made while it was in
    force is checked even once it is lifted."""
    checked = list(Restriction.objects.filter(started_at__lte=now).order_by("pk"))
    breaches = []
    for restriction in checked:
        uses = restrictions.uses_covered_by(restriction.purpose)
        for pk, tag in _unallowed_uses(restriction, uses, now):
            lifted = (
                f", levée le {timezone.localtime(restriction.lifted_at):%d/%m/%Y}"
                if restriction.lifted_at is not None
                else ""
            )
            breaches.append(
                f"limitation n° {restriction.pk}{lifted} : utilisation « {tag} » sans exception "
                f"du délégué en vigueur (événement d'audit n° {pk})"
            )
    return Finding(len(checked), breaches)


# --- T11: the audit log is intact -------------------------------------------------------------
@register("T11", section="4", title="Journal d'audit intègre")
def audit_log_is_intact(now: datetime.datetime) -> Finding:
    from mutualis.audit.verify import verify_chain

    result = verify_chain()
    if result.ok:
        return Finding(result.checked)
    broken = result.first_break
    assert broken is not None  # not ok: there is a first break
    return Finding(result.checked, [f"événement n° {broken.seq} : {broken.reason}"])


# --- T12: the published policy is what today's declaration says -----------------------------
@register("T12", section="III", title="Politique publiée conforme à la déclaration")
def published_policy_matches_declaration(now: datetime.datetime) -> Finding:
    latest = PolicyVersion.objects.published().first()
    if latest is None:
        return Finding(
            1, ["aucune version publiée : publiez la politique (manage.py publish_policy)"]
        )
    digest = hashlib.sha256(policy.render_policy_body().encode()).hexdigest()
    if digest == latest.content_hash:
        return Finding(1)
    return Finding(
        1,
        [
            f"la politique générée aujourd'hui diffère de la version publiée du "
            f"{latest.effective_date:%d/%m/%Y} : publiez une nouvelle version datée "
            "(manage.py publish_policy)"
        ],
    )
