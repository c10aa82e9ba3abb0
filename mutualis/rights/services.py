"""The life of a rights request: filing, identity, deadline, answer, refusal, closure.

Rules (GDPR art. 12):

- a request is answered within one month of receipt (:func:`mutualis.rights.deadlines.due_date`),
  free of charge; the deadline may be extended by two months at most, with reasons, by a notice
  sent within the first month (:func:`extend` refuses otherwise);
- identity is checked by any reasonable means: a member logged into the member space is
  identified; for other channels staff record the check (:func:`record_identity_check`); a
  document is asked only on reasonable doubt (:func:`ask_identity_document`) and the clock
  waits until it arrives;
- the same open request filed twice is one request (:func:`file_request` merges it);
- every answer and every refusal states the outcome, the reasons for what was refused and the
  right to complain to the CNIL (the letter is rendered from ``rights/email/answer.txt`` and
  stored as sent, so the member space shows the very same text).

Each function takes keyword arguments, runs in one transaction, adds a step to the request's
history and records its audit event inside it; e-mails leave once the transaction commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.audit.services import holds_nir_or_iban
from mutualis.rights import emails
from mutualis.rights.deadlines import MAX_EXTENSION_MONTHS, due_date
from mutualis.rights.models import (
    Capacity,
    Channel,
    IdentityMethod,
    Kind,
    Outcome,
    RequestEvent,
    RightsRequest,
    Status,
)
from mutualis.rights.tags import RightsTag

Action = RequestEvent.Action


class RightsError(ValueError):
    """A step the rules refuse; the message is French, for the person or the staff member."""


class InvalidTransition(RightsError):
    """A status change not in :data:`mutualis.rights.models.TRANSITIONS`."""


# --- Helpers ---------------------------------------------------------------------------------
def locked(request: RightsRequest) -> RightsRequest:
    return (
        RightsRequest.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=request.pk)
    )


def no_secrets(text: str, what: str) -> str:
    """Free text must not carry a NIR or an IBAN (they are stored encrypted, never in notes)."""
    text = (text or "").strip()
    if holds_nir_or_iban(text):
        raise RightsError(
            f"{what} : n'y recopiez ni numéro de sécurité sociale ni IBAN (ils sont conservés "
            "chiffrés, à leur place dans le dossier)."
        )
    return text


def _move(request: RightsRequest, status: str, *, actor, note: str = "") -> None:
    """Change the status along the table, with its step and audit event."""
    if not request.can_become(status):
        raise InvalidTransition(
            f"Une demande « {request.get_status_display()} » ne peut pas passer à "
            f"« {Status(status).label} »."
        )
    previous = request.status
    request.status = status
    request.save(update_fields=["status"])
    request.log(Action.STATUS, actor=actor, note=note or f"{Status(status).label}")
    audit.record(
        RightsTag.REQUEST_STATUS,
        actor=actor,
        subject=request.person_id or request.subject_id or None,
        target=request,
        details={"from": previous, "to": status},
    )


def audit_step(tag: str, request: RightsRequest, *, actor, **details) -> None:
    audit.record(
        tag,
        actor=actor,
        subject=request.person_id or request.subject_id or None,
        target=request,
        details={"kind": request.kind, **details},
    )


def _merge(old, new):
    """New details over old ones: dictionaries merged key by key, lists joined without repeats."""
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = _merge(old[key], value) if key in old else value
        return merged
    if isinstance(old, list) and isinstance(new, list):
        return old + [item for item in new if item not in old]
    return new


def _duplicate_of(kind: str, person, requester_email: str) -> RightsRequest | None:
    qs = RightsRequest.objects.open().select_for_update(of=("self",)).filter(kind=kind)
    if person is not None:
        return qs.filter(person=person).order_by("received_at").first()
    if requester_email:
        return (
            qs.filter(person__isnull=True, requester_email__iexact=requester_email)
            .order_by("received_at")
            .first()
        )
    return None


def ready(request: RightsRequest, kind: str) -> RightsRequest:
    """The request, locked, checked to be of ``kind`` and in progress (identity checked)."""
    request = locked(request)
    if request.kind != kind:
        raise RightsError("Cette demande n'est pas de cette nature.")
    if request.status != Status.IN_PROGRESS:
        raise RightsError(
            "La demande doit être en cours de traitement, l'identité du demandeur vérifiée."
        )
    return request


def person_of(request: RightsRequest):
    """The person a request is about; handlers work on a known person's record."""
    if request.person is None:
        raise RightsError(
            "Rattachez d'abord la demande à la personne concernée : le traitement automatique "
            "porte sur son dossier."
        )
    return request.person


# --- Filing ----------------------------------------------------------------------------------
def file_request(
    *,
    kind: str,
    person=None,
    requester_name: str = "",
    requester_email: str = "",
    requester_address: str = "",
    requester_capacity: str = Capacity.SELF,
    channel: str,
    received_at: datetime.datetime | None = None,
    details: dict | None = None,
    actor=None,
    identity_verified: bool,
    identity_method: str = "",
    identity_note: str = "",
) -> RightsRequest:
    """Record a request from any channel, from anyone (GDPR art. 12).

    ``person`` is the person concerned when known (member, beneficiary, former member); without
    one, ``requester_name`` and an e-mail or postal address say whom to answer. The deadline is
    one month from receipt. ``identity_verified`` is True for a member logged into the member
    space (method "logged_in"), or when staff checked identity while taking the request
    (``identity_method``, ``identity_note``); otherwise the request waits in "received" for
    :func:`record_identity_check` or :func:`ask_identity_document`.

    An open request of the same kind for the same person (or, without a person, from the same
    address) is not doubled: the existing one is returned, with the new details merged into it
    and a step recording the repeat.
    """
    if kind not in Kind.values:
        raise RightsError(f"Nature de demande inconnue : {kind}.")
    if channel not in Channel.values:
        raise RightsError(f"Canal inconnu : {channel}.")
    if requester_capacity not in Capacity.values:
        raise RightsError(f"Qualité du demandeur inconnue : {requester_capacity}.")
    requester_name = requester_name.strip()[:150]
    requester_email = requester_email.strip().lower()[:254]
    requester_address = requester_address.strip()
    if person is None and not (requester_name and (requester_email or requester_address)):
        raise RightsError(
            "Indiquez la personne concernée, ou le nom du demandeur et une adresse (électronique "
            "ou postale) où lui répondre."
        )
    details = dict(details or {})
    received_at = received_at or timezone.now()
    now = timezone.now()
    with transaction.atomic():
        existing = _duplicate_of(kind, person, requester_email)
        if existing is not None:
            existing.details = _merge(existing.details, details)
            existing.save(update_fields=["details"])
            existing.log(
                Action.MERGED,
                actor=actor,
                note=f"Reçue à nouveau le {timezone.localtime(received_at):%d/%m/%Y} "
                f"({Channel(channel).label}).",
            )
            audit_step(RightsTag.REQUEST_MERGE, existing, actor=actor, channel=channel)
            return existing
        if identity_verified:
            if channel == Channel.MEMBER_SPACE:
                identity_method, checked_by = IdentityMethod.LOGGED_IN, None
            else:
                identity_method = identity_method or IdentityMethod.OTHER
                if identity_method == IdentityMethod.LOGGED_IN:
                    raise RightsError("Seul l'espace adhérent identifie par la connexion.")
                checked_by = actor if getattr(actor, "is_staff_account", False) else None
        else:
            identity_method, checked_by = "", None
        request = RightsRequest.objects.create(
            kind=kind,
            person=person,
            subject_id=str(person.pk) if person is not None else "",
            requester_name=requester_name,
            requester_email=requester_email,
            requester_address=requester_address,
            requester_capacity=requester_capacity,
            channel=channel,
            received_at=received_at,
            identity_method=identity_method,
            identity_note=no_secrets(identity_note, "Note sur l'identité"),
            identity_checked_by=checked_by,
            identity_checked_at=now if identity_verified else None,
            due_date=due_date(timezone.localdate(received_at)),
            status=Status.IN_PROGRESS if identity_verified else Status.RECEIVED,
            details=details,
        )
        request.log(Action.FILED, actor=actor, note=Channel(channel).label)
        if identity_verified:
            request.log(
                Action.IDENTITY_CHECKED,
                actor=actor,
                note=IdentityMethod(identity_method).label,
            )
        audit_step(
            RightsTag.REQUEST_FILE,
            request,
            actor=actor,
            channel=channel,
            capacity=requester_capacity,
            identity_verified=identity_verified,
        )
        if channel != Channel.MEMBER_SPACE:
            # The member space shows the request at once; other channels get a receipt.
            body = emails.render("acknowledgement.txt", request)
            sent = emails.deliver(
                request,
                subject=f"Votre demande {request.reference} : accusé de réception",
                body=body,
                actor=actor,
            )
            if sent:
                request.log(Action.ACKNOWLEDGED, actor=actor, note=sent)
    return request


# --- Identity --------------------------------------------------------------------------------
def record_identity_check(
    *, request: RightsRequest, method: str, actor, note: str = ""
) -> RightsRequest:
    """Staff record how identity was checked (GDPR art. 12(2)); the request moves on.

    After a document was asked, the days spent waiting are added to the deadline (the clock
    waited). The document itself is never stored: only the method and a note.
    """
    if method not in (IdentityMethod.DOCUMENT, IdentityMethod.OTHER):
        raise RightsError("Indiquez comment l'identité a été vérifiée.")
    note = no_secrets(note, "Note sur l'identité")
    with transaction.atomic():
        request = locked(request)
        if request.identity_verified:
            return request
        if request.status == Status.AWAITING_IDENTITY and request.identity_requested_at:
            waited = timezone.localdate() - timezone.localdate(request.identity_requested_at)
            request.waited_days += max(waited.days, 0)
            request.due_date = due_date(
                timezone.localdate(request.received_at),
                extended_by=request.extended_months,
                waited_days=request.waited_days,
            )
        request.identity_method = method
        request.identity_note = note
        request.identity_checked_by = actor if getattr(actor, "is_staff_account", False) else None
        request.identity_checked_at = timezone.now()
        request.save(
            update_fields=[
                "identity_method",
                "identity_note",
                "identity_checked_by",
                "identity_checked_at",
                "waited_days",
                "due_date",
            ]
        )
        request.log(Action.IDENTITY_CHECKED, actor=actor, note=IdentityMethod(method).label)
        audit_step(RightsTag.IDENTITY_CHECK, request, actor=actor, method=method)
        _move(request, Status.IN_PROGRESS, actor=actor)
    return request


def ask_identity_document(*, request: RightsRequest, reason: str, actor) -> RightsRequest:
    """Ask for an identity document on reasonable doubt (GDPR art. 12(6)); the deadline waits
    until it arrives. A member identified by their login is never asked."""
    reason = no_secrets(reason, "Motif du doute")
    if len(reason) < 5:
        raise RightsError("Indiquez la raison du doute sur l'identité du demandeur.")
    with transaction.atomic():
        request = locked(request)
        if request.identity_verified:
            raise RightsError(
                "L'identité du demandeur est déjà vérifiée : aucun justificatif ne peut être exigé."
            )
        _move(request, Status.AWAITING_IDENTITY, actor=actor, note=reason)
        request.identity_requested_at = timezone.now()
        request.save(update_fields=["identity_requested_at"])
        request.log(Action.IDENTITY_ASKED, actor=actor, note=reason)
        audit_step(RightsTag.IDENTITY_ASK, request, actor=actor)
        emails.deliver(
            request,
            subject=f"Votre demande {request.reference} : justificatif d'identité",
            body=emails.render("identity_request.txt", request, reason=reason),
            actor=actor,
        )
    return request


# --- Deadline --------------------------------------------------------------------------------
def first_month_end(request: RightsRequest) -> datetime.date:
    """The last day an extension may still be notified: the initial deadline (waits included)."""
    waited = request.waited_days
    if request.status == Status.AWAITING_IDENTITY and request.identity_requested_at:
        waited += (timezone.localdate() - timezone.localdate(request.identity_requested_at)).days
    return due_date(timezone.localdate(request.received_at), waited_days=waited)


def extend(
    *, request: RightsRequest, reason: str, actor, months: int = MAX_EXTENSION_MONTHS
) -> RightsRequest:
    """Extend the deadline by up to two months for a complex request or numerous requests
    (GDPR art. 12(3)): only with reasons, only within the first month, and only by sending the
    person a notice of the extension and its reasons (refused when they cannot be reached)."""
    reason = no_secrets(reason, "Motif de la prolongation")
    if len(reason) < 10:
        raise RightsError("Indiquez les raisons de la prolongation (RGPD art. 12(3)).")
    if months < 1:
        raise RightsError("Une prolongation est d'un ou deux mois.")
    with transaction.atomic():
        request = locked(request)
        if not request.is_open:
            raise RightsError("Cette demande a déjà reçu sa réponse.")
        if request.extended_months + months > MAX_EXTENSION_MONTHS:
            raise RightsError(
                f"Le délai ne peut être prolongé que de {MAX_EXTENSION_MONTHS} mois au plus "
                "(RGPD art. 12(3))."
            )
        if timezone.localdate() > first_month_end(request):
            raise RightsError(
                "La prolongation doit être notifiée dans le mois qui suit la réception de la "
                f"demande (au plus tard le {first_month_end(request):%d/%m/%Y})."
            )
        request.extended_months += months
        request.extension_reason = "\n".join(filter(None, [request.extension_reason, reason]))
        request.due_date = due_date(
            timezone.localdate(request.received_at),
            extended_by=request.extended_months,
            waited_days=request.waited_days,
        )
        request.extension_notice_sent_at = timezone.now()
        request.save(
            update_fields=[
                "extended_months",
                "extension_reason",
                "due_date",
                "extension_notice_sent_at",
            ]
        )
        sent = emails.deliver(
            request,
            subject=f"Votre demande {request.reference} : prolongation du délai de réponse",
            body=emails.render("extension.txt", request, reason=reason, months=months),
            actor=actor,
        )
        if not sent:
            raise RightsError(
                "Impossible de prévenir le demandeur (ni adresse électronique ni adresse "
                "postale) : le délai ne peut pas être prolongé sans l'en informer."
            )
        request.log(
            Action.EXTENDED,
            actor=actor,
            note=f"+{months} mois, réponse due le {request.due_date:%d/%m/%Y} ({sent}).",
        )
        audit_step(
            RightsTag.REQUEST_EXTEND,
            request,
            actor=actor,
            months=months,
            due_date=request.due_date.isoformat(),
        )
    return request


# --- Answer, refusal, closure ----------------------------------------------------------------
def _letter(request: RightsRequest, *, outcome: str, text: str, reasons: str) -> str:
    return emails.render(
        "answer.txt",
        request,
        outcome_label=Outcome(outcome).label.lower(),
        refused=outcome == Outcome.REFUSED,
        text=text.strip(),
        reasons=reasons.strip(),
    )


def answer(
    *,
    request: RightsRequest,
    outcome: str,
    text: str,
    actor,
    reasons: str = "",
    attachments: Iterable[emails.Attachment] = (),
) -> RightsRequest:
    """Answer a request whose identity is checked: the letter (outcome, what was done, reasons
    for any part refused, the right to complain to the CNIL) is stored and sent to the person,
    by e-mail or post, and shown in the member space. A full refusal goes through
    :func:`refuse`."""
    if outcome == Outcome.REFUSED:
        return refuse(request=request, reasons=reasons or text, actor=actor)
    if outcome not in (Outcome.GRANTED, Outcome.PARTIAL):
        raise RightsError("Issue inconnue.")
    text = no_secrets(text, "Réponse")
    reasons = no_secrets(reasons, "Motifs")
    if not text:
        raise RightsError("La réponse ne peut pas être vide.")
    if outcome == Outcome.PARTIAL and not reasons:
        raise RightsError("Indiquez pourquoi une partie de la demande n'est pas satisfaite.")
    with transaction.atomic():
        request = locked(request)
        _move(request, Status.ANSWERED, actor=actor)
        request.outcome = outcome
        request.refusal_reasons = reasons
        request.answer_text = _letter(request, outcome=outcome, text=text, reasons=reasons)
        request.answered_at = timezone.now()
        request.save(update_fields=["outcome", "refusal_reasons", "answer_text", "answered_at"])
        sent = emails.deliver(
            request,
            subject=f"Réponse à votre demande {request.reference}",
            body=request.answer_text,
            actor=actor,
            attachments=attachments,
        )
        request.log(Action.ANSWERED, actor=actor, note=f"{Outcome(outcome).label} ({sent})")
        audit_step(RightsTag.REQUEST_ANSWER, request, actor=actor, outcome=outcome, sent=sent)
    return request


def refuse(*, request: RightsRequest, reasons: str, actor) -> RightsRequest:
    """Refuse a request, with its reasons (identity not established, manifestly unfounded or
    excessive, a legal obligation...), the right to complain to the CNIL and to a judicial
    remedy (GDPR art. 12(4))."""
    reasons = no_secrets(reasons, "Motifs du refus")
    if len(reasons) < 10:
        raise RightsError("Indiquez les motifs du refus (RGPD art. 12(4)).")
    with transaction.atomic():
        request = locked(request)
        _move(request, Status.REFUSED, actor=actor)
        request.outcome = Outcome.REFUSED
        request.refusal_reasons = reasons
        request.answer_text = _letter(
            request,
            outcome=Outcome.REFUSED,
            text="Nous ne pouvons pas donner suite à votre demande.",
            reasons=reasons,
        )
        request.answered_at = timezone.now()
        request.save(update_fields=["outcome", "refusal_reasons", "answer_text", "answered_at"])
        sent = emails.deliver(
            request,
            subject=f"Réponse à votre demande {request.reference}",
            body=request.answer_text,
            actor=actor,
        )
        request.log(Action.REFUSED, actor=actor, note=sent)
        audit_step(RightsTag.REQUEST_REFUSE, request, actor=actor, sent=sent)
    return request


def close(*, request: RightsRequest, actor=None) -> RightsRequest:
    """Close an answered or refused request: its retention clock (5 years) starts."""
    with transaction.atomic():
        request = locked(request)
        _move(request, Status.CLOSED, actor=actor)
        request.closed_at = timezone.now()
        request.save(update_fields=["closed_at"])
        request.log(Action.CLOSED, actor=actor)
        audit_step(RightsTag.REQUEST_CLOSE, request, actor=actor)
    return request


def transition(*, request: RightsRequest, status: str, actor, note: str = "") -> RightsRequest:
    """Move a request along the table by hand (e.g. "received" → "in progress" once staff
    take it up); answers, refusals and closures have their own services."""
    if status in (Status.ANSWERED, Status.REFUSED, Status.CLOSED):
        raise RightsError("Utilisez la réponse, le refus ou la clôture.")
    with transaction.atomic():
        request = locked(request)
        _move(request, status, actor=actor, note=no_secrets(note, "Note"))
    return request


def attach_person(*, request: RightsRequest, person, actor) -> RightsRequest:
    """Attach a request filed without a person (a letter, the public form) to the person it
    concerns, once staff have found them; audited. The handlers then work on their record."""
    if person is None:
        raise RightsError("Indiquez la personne concernée.")
    with transaction.atomic():
        request = locked(request)
        if request.person_id is not None:
            raise RightsError("Cette demande est déjà rattachée à une personne.")
        request.person = person
        request.subject_id = str(person.pk)
        request.save(update_fields=["person", "subject_id"])
        request.log(Action.NOTE, actor=actor, note="Demande rattachée à la personne concernée.")
        audit_step(RightsTag.REQUEST_ATTACH, request, actor=actor)
    return request


def add_note(*, request: RightsRequest, note: str, actor) -> RequestEvent:
    """A staff note in the request's history (never the NIR or the IBAN)."""
    note = no_secrets(note, "Note")
    if not note:
        raise RightsError("La note est vide.")
    with transaction.atomic():
        event = request.log(Action.NOTE, actor=actor, note=note)
        audit_step(RightsTag.REQUEST_NOTE, request, actor=actor)
    return event
