"""Writing to the audit log and to the disclosure register.

:func:`record` is the only way an audit event is written. It must run inside the transaction of
the write it records, so the event and the write are committed or rolled back together (the audit
entry is never optional). It takes no lock: the event is signed (keyed MAC) when written, and the
sequencer (:mod:`mutualis.audit.sequencer`) places it in the hash chain after commit. Events name
people by id, never by clear personal data: a NIR or an IBAN anywhere in an event is refused.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.db import connections, models, transaction
from django.utils import timezone
from stdnum.fr import nir

from mutualis.audit.keys import audit_key_ring
from mutualis.audit.models import (
    CHAIN_HEAD_PK,
    ChainHead,
    ChainLink,
    Disclosure,
    Event,
    canonical_content,
)
from mutualis.audit.sequencer import locked_head, sequence_all
from mutualis.audit.tags import AuditTag, validate_tag
from mutualis.lib import iban
from mutualis.lib.prepared import PreparedInsert
from mutualis.privacy import catalogue
from mutualis.privacy.declaration import Category, Recipient

SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"

_ACTOR = re.compile(r"^[a-z][a-z0-9_]*(?::[A-Za-z0-9_.-]{1,64})?$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_TARGET = re.compile(r"^\S{1,200}$")
# "app_label.model:<uuid>": letters and a record id, which the NIR/IBAN scan sets aside.
_LABELLED_UUID = re.compile(
    r"[a-z_]+\.[a-z_]+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
# Candidates only: each match is then checked by python-stdnum (check key / mod 97).
_NIR_LIKE = re.compile(r"(?<![0-9A-Z])[12378](?:\s?[0-9AB]){14}(?![0-9A-Z])", re.IGNORECASE)
_IBAN_LIKE = re.compile(r"(?<![0-9A-Z])[A-Z]{2}\d{2}(?:[\s-]?[A-Z0-9]){11,30}", re.IGNORECASE)
_IBAN_MIN_LENGTH = 15
_IBAN_MAX_LENGTH = 34
_NIR_LENGTH = 15
# Shorter than the shortest NIR or IBAN: nothing to look for.
_SHORTEST = min(_IBAN_MIN_LENGTH, _NIR_LENGTH)
# What python-stdnum strips before checking: whitespace, dots (NIR), dashes (IBAN).
_SEPARATORS = re.compile(r"[\s.-]")
_IBAN_SEPARATORS = re.compile(r"[\s-]")
# JSON integers beyond 2**53 do not survive every reader (and the canonical form is 64-bit).
_JSON_INT_LIMIT = 2**53


class TransactionRequired(RuntimeError):
    """``record()`` was called outside a transaction."""


class PersonalDataInAuditEvent(ValueError):
    """An audit event was about to carry a NIR or an IBAN in clear."""


class DisclosureNotAllowed(ValueError):
    """The declaration does not allow this recipient to receive these categories."""


def record(
    tag: str,
    *,
    actor: Any = None,
    subject: Any = None,
    target: Any = None,
    details: Mapping[str, Any] | None = None,
    using: str = "default",
) -> Event:
    """Append one event to the audit log, inside the caller's transaction.

    ``actor`` is a user or model instance (``"user:<pk>"``, ``"<model>:<pk>"``), an identifier
    string (``"staff:12"``) or ``None`` for ``"system"``; ``subject`` is the person concerned, as a
    model instance (its pk), a UUID or a string id; ``target`` is the object acted on, as a model
    instance (``"app_label.model:pk"``) or a string. ``details`` is a JSON object of strings,
    integers, booleans, lists and objects (no floats: their JSON form differs between databases,
    which would break the MAC).

    The event is signed with the audit key; the sequencer gives it its place in the hash chain
    once the transaction has committed. No lock is taken: concurrent writers do not wait for one
    another.

    Raises :class:`TransactionRequired` outside ``transaction.atomic()``, ``ValueError`` for a
    malformed tag, actor, subject, target or details, and :class:`PersonalDataInAuditEvent` when
    any of them holds a valid NIR or IBAN (events name people by id only).
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionRequired(
            "audit.record() must be called inside transaction.atomic(), in the same transaction "
            "as the write it records"
        )
    fields = checked_fields(tag, actor, subject, target, details)
    uid = uuid.uuid4()
    at = timezone.now()
    mac = audit_key_ring().sign(canonical_content(uid=uid, at=at, **fields))
    event_id = _insert(connection, uid=uid, at=at, mac=mac, **fields)
    # Positional, in the model's field order: the quick path of Model.__init__.
    event = Event(
        event_id,
        uid,
        at,
        fields["actor"],
        fields["tag"],
        fields["subject_id"],
        fields["target"],
        fields["details"],
        mac,
    )
    event._state.adding = False
    event._state.db = using
    return event


def checked_fields(tag: Any, actor: Any, subject: Any, target: Any, details: Any) -> dict:
    """An event's fields as stored, each checked (see :func:`record`)."""
    texts: list[str] = []
    fields: dict[str, Any] = {
        "tag": _checked_tag(str(tag)),
        "actor": _actor_id(actor),
        "subject_id": _subject_id(subject),
        "target": _target(target),
        "details": _clean_details(details, texts),
    }
    # The tag and the actor were checked for a NIR or an IBAN with their form (once for each
    # value); an id written from a UUID holds neither (the scan would set it aside anyway), nor
    # does a model's label followed by one.
    if not _from_uuid(subject):
        texts.append(fields["subject_id"])
    if not _from_uuid(target) and not _LABELLED_UUID.fullmatch(fields["target"]):
        texts.append(fields["target"])
    if any(holds_nir_or_iban(text) for text in texts):
        raise PersonalDataInAuditEvent(_PERSONAL_DATA_REFUSED)
    return fields


# The event is one INSERT. On PostgreSQL its WHERE clause gives the transaction its id before the
# event's id is drawn from the sequence: the sequencer relies on it to know when no event with a
# lower id can still appear (see mutualis.audit.sequencer). The columns are the model's (a test
# compares a written event with the ORM's reading).
_PG_INSERT = (
    "INSERT INTO audit_event (uid, at, actor, tag, subject_id, target, details, mac) "
    "SELECT %s, %s, %s, %s, %s, %s, %s::jsonb, %s WHERE pg_current_xact_id() IS NOT NULL "
    "RETURNING id"
)
_SQLITE_INSERT = (
    "INSERT INTO audit_event (uid, at, actor, tag, subject_id, target, details, mac) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _insert(connection, *, uid, at, actor, tag, subject_id, target, details, mac) -> int:
    text = orjson.dumps(details).decode()
    cursor, driver = _cursor(connection)
    if driver:  # what Django's cursor checks first: not in a transaction already doomed
        connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:  # the driver's errors as Django's, as any query's
        if connection.vendor == "postgresql":
            params = (uid, at, actor, tag, subject_id, target, text, mac)
            if driver:
                cursor.execute(_PG_INSERT, params, prepare=settings.MUTUALIS_AUDIT_PREPARED)
            else:
                cursor.execute(_PG_INSERT, params)
            return cursor.fetchone()[0]
        stamp = connection.ops.adapt_datetimefield_value(at)
        params = (uid.hex, stamp, actor, tag, subject_id, target, text, mac)
        cursor.execute(_SQLITE_DRIVER_INSERT if driver else _SQLITE_INSERT, params)
        return cursor.lastrowid


_SQLITE_DRIVER_INSERT = _SQLITE_INSERT.replace("%s", "?")  # sqlite3's own placeholders
# psycopg prepares a statement after this many runs on a cursor that binds in the server; set
# on a connection where Django left prepared statements off, so that only what asks for it
# (the audit INSERT, ``prepare=True``) is prepared.
_ONLY_WHEN_ASKED = 2**62


def _cursor(connection):
    """The cursor of the audit INSERT, made once per database connection and reused, and
    whether it is the driver's own (rather than Django's).

    Every write of personal data records an event, so what each INSERT costs is a cost the
    whole system pays; with many writers on few cores, the client's and the server's work per
    statement counts as much as the row written:

    - making and closing a cursor for each event costs more than the INSERT's client work;
    - Django's cursor rewrites each query on the way: on PostgreSQL it writes every value into
      the SQL text (client-side binding, Django's default), on SQLite it turns the ``%s`` into
      ``?``. The driver's own cursor takes the statement as it is, and on PostgreSQL sends the
      values apart from it (server-side binding). It runs on the same connection, so in the
      same transaction; it refuses to write in a transaction Django knows is doomed, and its
      errors are Django's, as with Django's cursor;
    - on PostgreSQL the statement is prepared once per connection (``MUTUALIS_AUDIT_PREPARED``,
      on by default): parsing and planning it for each event cost the server more than writing
      the row. Django leaves psycopg's prepared statements off (``prepare_threshold`` None, for
      connection poolers in transaction mode); here they are allowed on the connection for the
      statements that ask (only this one: Django's own cursors never prepare), and a threshold
      the deployment set (``OPTIONS["prepare_threshold"]``) is left as it is.

    When queries are logged (``DEBUG``, the tests' query counts) or an execute wrapper is
    installed, Django's cursor is used, so that they see the INSERT. A new cursor is made when
    the connection was reopened or either of those changed.
    """
    raw = connection.connection
    logged = connection.queries_logged or bool(connection.execute_wrappers)
    cached = getattr(connection, "_mutualis_audit_cursor", None)
    if cached is not None and cached[0] is raw and cached[1] == logged:
        return cached[2]
    if logged:
        found = connection.cursor(), False
    elif connection.vendor == "postgresql":
        if settings.MUTUALIS_AUDIT_PREPARED and raw.prepare_threshold is None:
            raw.prepare_threshold = _ONLY_WHEN_ASKED
        found = psycopg.Cursor(raw), True
    else:
        found = raw.cursor(), True
    connection._mutualis_audit_cursor = (raw, logged, found)
    return found


def _from_uuid(value: Any) -> bool:
    """Whether ``value`` is a UUID, or a saved model instance whose primary key is one."""
    if isinstance(value, models.Model):
        value = value.pk
    return isinstance(value, uuid.UUID)


# Tags and actors are few and come back on every event: each value is checked once (its form,
# then the NIR/IBAN scan) and remembered. A refused value is not remembered.
@lru_cache(maxsize=1024)
def _checked_tag(value: str) -> str:
    validate_tag(value)
    if holds_nir_or_iban(value):
        raise PersonalDataInAuditEvent(_PERSONAL_DATA_REFUSED)
    return value


@lru_cache(maxsize=4096)
def _checked_actor(value: str, *, given: bool = True) -> str:
    """``given``: the caller wrote the identifier (its form is checked); otherwise it was made
    from a model instance."""
    if given and not _ACTOR.fullmatch(value):
        raise ValueError(
            f"audit actor {value!r} is not an identifier such as 'staff:12' or 'system'"
        )
    if holds_nir_or_iban(value):
        raise PersonalDataInAuditEvent(_PERSONAL_DATA_REFUSED)
    return value


def _actor_id(actor: Any) -> str:
    if actor is None:
        return SYSTEM_ACTOR
    if isinstance(actor, models.Model):
        if actor.pk is None:
            raise ValueError("an unsaved instance cannot be an audit actor")
        return _checked_actor(f"{actor._meta.model_name}:{actor.pk}", given=False)
    if getattr(actor, "is_authenticated", None) is False:  # AnonymousUser
        return ANONYMOUS_ACTOR
    if isinstance(actor, str):
        return _checked_actor(str(actor))
    raise ValueError(f"audit actor {actor!r} is not an identifier such as 'staff:12' or 'system'")


def _subject_id(subject: Any) -> str:
    if subject is None:
        return ""
    if isinstance(subject, models.Model):
        if subject.pk is None:
            raise ValueError("an unsaved instance cannot be an audit subject")
        subject = subject.pk
    if isinstance(subject, uuid.UUID):
        return str(subject)
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if isinstance(subject, str) and _SUBJECT.fullmatch(subject):
        return subject
    raise ValueError("audit subject must be a model instance, a UUID or an id of 64 characters")


def _target(target: Any) -> str:
    if target is None:
        return ""
    if isinstance(target, models.Model):
        if target.pk is None:
            raise ValueError("an unsaved instance cannot be an audit target")
        pk = target.pk
        target = f"{target._meta.label_lower}:{pk}"
        if isinstance(pk, uuid.UUID):
            return target  # a model's label and a UUID: of the form by construction
    if isinstance(target, str) and _TARGET.fullmatch(target):
        return target
    raise ValueError("audit target must be a model instance or a string without spaces")


def _clean_details(details: Mapping[str, Any] | None, texts: list[str] | None = None) -> dict:
    """``details`` as plain JSON; the strings that could hold a NIR or an IBAN go to ``texts``."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise ValueError("audit details must be a mapping")
    return _clean_json(details, "details", [] if texts is None else texts)


def _clean_json(value: Any, path: Any, texts: list[str]) -> Any:
    """Return ``value`` as plain JSON, refusing what would not survive a database round trip.

    ``path`` names the value in error messages: a string, or a (parent, key or index) pair,
    written out only when an error needs it (most events have none).
    """
    if _plain(value):
        return value
    if isinstance(value, str):
        if len(value) >= _SHORTEST:
            texts.append(value)
        return _clean_text(value, path)
    if isinstance(value, int):
        if not -_JSON_INT_LIMIT <= value <= _JSON_INT_LIMIT:
            raise ValueError(
                f"audit {_path(path)}: integers beyond 2**53 are not allowed; pass a string"
            )
        return int(value)
    if isinstance(value, float):
        raise ValueError(
            f"audit {_path(path)}: floats are not allowed (their stored form varies between "
            "databases); pass a string or an integer"
        )
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            if type(key) is not str or not _plain(key):
                if not isinstance(key, str):
                    raise ValueError(f"audit {_path(path)}: keys must be strings, not {key!r}")
                if len(key) >= _SHORTEST:
                    texts.append(key)
                key = _clean_text(key, path)
            cleaned[key] = item if _plain(item) else _clean_json(item, (path, key), texts)
        return cleaned
    if isinstance(value, list | tuple):
        return [
            item if _plain(item) else _clean_json(item, (path, i), texts)
            for i, item in enumerate(value)
        ]
    raise ValueError(
        f"audit {_path(path)}: {type(value).__name__} is not JSON; convert it to a string"
    )


def _plain(value: Any) -> bool:
    """Whether ``value`` is stored as it is, with nothing to scan: the common case of a detail
    (a field name, a code, a count, a flag), tested before anything else."""
    kind = type(value)
    if kind is str:
        return len(value) < _SHORTEST and value.isascii() and "\x00" not in value
    if kind is int:
        return -_JSON_INT_LIMIT <= value <= _JSON_INT_LIMIT
    return value is None or kind is bool


def _path(path: Any) -> str:
    """``(("details", "a"), 0)`` → ``details.a[0]``."""
    parts: list[str] = []
    while isinstance(path, tuple):
        path, step = path
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return path + "".join(reversed(parts))


def _clean_text(value: str, path: Any) -> str:
    if "\x00" in value:
        raise ValueError(f"audit {_path(path)}: NUL characters cannot be stored")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"audit {_path(path)}: text that is not valid Unicode cannot be stored"
            ) from None
    return str(value)  # a plain str, not a subclass (an enum member)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def holds_nir_or_iban(text: str) -> bool:
    """Whether ``text`` is, or contains, a NIR or an IBAN with a valid check key (record ids
    written as UUIDs aside).

    Cheap tests first: most audit strings (tags, ids, counts, field names) are shorter than any
    NIR or IBAN, or hold no run that could be one, and never reach python-stdnum.
    """
    if len(text) < _SHORTEST:
        return False
    text = iban.RECORD_ID.sub(" ", text)  # record ids aside (lib/iban.py says why)
    compact = _SEPARATORS.sub("", text)
    if len(compact) < _SHORTEST:
        return False
    if len(compact) == _NIR_LENGTH and compact[0] in "12378" and nir.is_valid(compact):
        return True
    if (
        _IBAN_MIN_LENGTH <= len(compact) <= _IBAN_MAX_LENGTH
        and compact[:2].isalpha()
        and compact[2:4].isdigit()
        and iban.is_valid(compact)
    ):
        return True
    if any(nir.is_valid(m.group()) for m in _NIR_LIKE.finditer(text)):
        return True
    for match in _IBAN_LIKE.finditer(text):
        # The match may run into the following word: try every length an IBAN can have.
        candidate = _IBAN_SEPARATORS.sub("", match.group())
        if any(iban.is_valid(candidate[:n]) for n in range(_IBAN_MIN_LENGTH, len(candidate) + 1)):
            return True
    return False


_PERSONAL_DATA_REFUSED = (
    "an audit event must not carry a NIR or an IBAN in clear: name the person by id"
)


def refuse_personal_data(value: Any) -> None:
    """Raise :class:`PersonalDataInAuditEvent` if any string in ``value`` holds a NIR or IBAN."""
    for text in _strings(value):
        if holds_nir_or_iban(text):
            raise PersonalDataInAuditEvent(_PERSONAL_DATA_REFUSED)


def record_disclosure(
    *,
    recipient: Recipient | str,
    subject: Any,
    categories: Iterable[Category | str],
    reason: str,
    actor: Any = None,
    use: str | None = None,
) -> Disclosure:
    """Write one disclosure to the register, with its audit event, in one transaction.

    The recipient must be one of the declaration's recipients and may receive only the categories
    the declaration grants it: each gets only what the declaration allows, and each disclosure
    is logged (GDPR art. 30(1)(d)). ``use`` is the declared processing use the disclosure is part
    of, when it is not the disclosure itself (the restriction guard was asked about it): the
    event carries it so that ``privacy_check`` (T9) pairs the disclosure with that guard's answer.
    """
    if subject is None:
        raise ValueError("a disclosure concerns one person: pass subject")
    recipient = _recipient(recipient)
    codes = sorted({c.code if isinstance(c, Category) else str(c) for c in categories})
    if not codes:
        raise ValueError("a disclosure names at least one category of data")
    allowed = {c.code for c in recipient.categories}
    refused = [code for code in codes if code not in allowed]
    if refused:
        raise DisclosureNotAllowed(
            f"recipient {recipient.code!r} may not receive categories {', '.join(refused)}"
        )
    if not reason.strip():
        raise ValueError("a disclosure states its reason and legal basis")
    # Within the caller's transaction, no savepoint: a failure here fails the caller's whole
    # transaction, never leaving its write without the disclosure it made.
    with transaction.atomic(savepoint=False):
        event = record(
            AuditTag.DISCLOSURE_CREATE,
            actor=actor,
            subject=subject,
            details={
                "recipient": recipient.code,
                "categories": codes,
                **({"use": str(use)} if use else {}),
            },
        )
        return _insert_disclosure(
            Disclosure(
                at=event.at,
                recipient=recipient.code,
                subject_id=event.subject_id,
                categories=codes,
                reason=reason,
                actor=event.actor,
                event=event,
            )
        )


# Every disclosure (each check of the partners' API among them): its INSERT written once.
_insert_disclosure = PreparedInsert(Disclosure)


def _recipient(recipient: Recipient | str) -> Recipient:
    if isinstance(recipient, Recipient):
        return recipient
    for known in catalogue.ALL_RECIPIENTS:
        if known.code == recipient:
            return known
    raise DisclosureNotAllowed(f"unknown recipient {recipient!r}")


def prune(*, before, batch_size: int = 5000, dry_run: bool = False) -> tuple[int, int]:
    """Remove the oldest events, recorded before ``before``, from the start of the chain.

    The one audited path for the audit log's retention (technical logs): pending events are
    placed first; then each batch, in one transaction, records an ``audit:chain:prune`` event
    naming the new checkpoint (the last link removed: its seq and hash), moves the checkpoint to
    it, deletes the events of the contiguous run of links following the former checkpoint, then
    those links, so ``audit_verify`` still passes. On PostgreSQL the triggers check each step
    (audit migration 0007): the checkpoint moves only beside the pruning event that names it,
    and only what lies at or before it may be deleted. An event a disclosure refers to stops the
    pruning until that disclosure is itself past its retention. Returns ``(events, batches)``.
    """
    using = Event.objects.db
    if dry_run:
        head = ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).first()
        if head is None:
            return 0, 0
        return max(0, _prune_stop(head, before, using) - head.checkpoint_seq), 0
    sequence_all(using=using)
    events = batches = 0
    while True:
        with transaction.atomic(using=using):
            head = locked_head(using)
            assert head is not None  # without skip_locked the head is waited for, never None
            stop = _prune_stop(head, before, using)
            upto = min(stop, head.checkpoint_seq + batch_size)
            if upto <= head.checkpoint_seq:
                return events, batches
            links = ChainLink.objects.using(using).filter(
                seq__gt=head.checkpoint_seq, seq__lte=upto
            )
            event_ids = list(links.values_list("event_id", flat=True))
            last_hash = ChainLink.objects.using(using).values_list("hash", flat=True).get(seq=upto)
            record(
                AuditTag.CHAIN_PRUNE,
                details={
                    "from_seq": head.checkpoint_seq + 1,
                    "to_seq": upto,
                    "checkpoint_hash": last_hash,
                    "before": before.isoformat(),
                },
                using=using,
            )
            ChainHead.objects.using(using).filter(pk=CHAIN_HEAD_PK).update(
                checkpoint_seq=upto, checkpoint_hash=last_hash
            )
            # Events first, while their links still show them at or before the checkpoint (the
            # links' foreign key is checked at commit).
            Event.objects.using(using).filter(id__in=event_ids)._raw_delete(using)
            links._raw_delete(using)
        events += len(event_ids)
        batches += 1


def _prune_stop(head: ChainHead, before, using: str) -> int:
    """The last seq that may go: before the first recent event and the first disclosed one."""
    after = ChainLink.objects.using(using).filter(seq__gt=head.checkpoint_seq).order_by("seq")
    stops = [head.last_seq]
    recent = after.filter(event__at__gte=before).values_list("seq", flat=True).first()
    if recent is not None:
        stops.append(recent - 1)
    disclosed = after.filter(event__disclosure__isnull=False).values_list("seq", flat=True).first()
    if disclosed is not None:
        stops.append(disclosed - 1)
    return min(stops)
