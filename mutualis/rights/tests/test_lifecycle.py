"""A request's life: filing from any channel, identity, deadline and extension, the transition
table, merged duplicates, answers that always name the CNIL, and the audit trail."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
import time_machine

from mutualis.audit.models import Event
from mutualis.audit.services import holds_nir_or_iban
from mutualis.rights import processing, services
from mutualis.rights.models import (
    TRANSITIONS,
    Channel,
    IdentityMethod,
    Kind,
    Outcome,
    RequestEvent,
    RightsRequest,
    Status,
)
from mutualis.rights.services import InvalidTransition, RightsError

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, 10, tzinfo=PARIS)


def by_letter(**extra) -> RightsRequest:
    """A visitor who wrote: no member-space account, no person on record."""
    values = {
        "kind": Kind.ACCESS,
        "requester_name": "Marc Leroy",
        "requester_email": "marc.leroy@example.org",
        "channel": Channel.LETTER,
        "identity_verified": False,
        **extra,
    }
    return services.file_request(**values)


def test_a_letter_from_someone_without_an_account_is_recorded_and_acknowledged(
    mailoutbox, bob, committed
):
    with time_machine.travel(at(2026, 1, 31), tick=False), committed():
        request = by_letter(actor=bob)
    assert request.status == Status.RECEIVED
    assert request.person is None and request.requester_name == "Marc Leroy"
    assert request.due_date == datetime.date(2026, 2, 28)
    assert request.reference.startswith("DR26-")
    [mail] = mailoutbox
    assert mail.to == ["marc.leroy@example.org"]
    assert "28 février 2026" in mail.body and "CNIL" in mail.body


def test_a_request_needs_a_person_or_someone_to_answer():
    with pytest.raises(RightsError):
        services.file_request(
            kind=Kind.ACCESS, channel=Channel.PHONE, identity_verified=False, requester_name="X"
        )


def test_staff_record_the_identity_check_and_the_request_moves_on(bob):
    request = by_letter()
    request = services.record_identity_check(
        request=request, method=IdentityMethod.OTHER, note="Questions sur le contrat", actor=bob
    )
    assert request.status == Status.IN_PROGRESS
    assert request.identity_checked_by == bob and request.identity_checked_at


def test_an_identity_note_may_not_hold_a_nir(bob, alice):
    request = by_letter()
    with pytest.raises(RightsError):
        services.record_identity_check(
            request=request, method=IdentityMethod.DOCUMENT, note=alice.person.nir, actor=bob
        )


def test_the_deadline_waits_while_an_identity_document_is_awaited(bob, mailoutbox, committed):
    with time_machine.travel(at(2026, 1, 10), tick=False):
        request = by_letter()
    assert request.due_date == datetime.date(2026, 2, 10)
    with time_machine.travel(at(2026, 1, 20), tick=False), committed():
        request = services.ask_identity_document(
            request=request, reason="Adresse différente de celle du dossier", actor=bob
        )
    assert request.status == Status.AWAITING_IDENTITY
    assert "suspendu" in mailoutbox[-1].body
    # Not overdue while waiting, even past the first deadline.
    assert not RightsRequest.objects.overdue(datetime.date(2026, 2, 20)).exists()
    with time_machine.travel(at(2026, 2, 5), tick=False):
        request = services.record_identity_check(
            request=request, method=IdentityMethod.DOCUMENT, actor=bob
        )
    assert request.waited_days == 16
    assert request.due_date == datetime.date(2026, 2, 26)
    assert request.status == Status.IN_PROGRESS


def test_a_logged_in_member_is_never_asked_for_a_document(alice, bob):
    request = services.file_request(
        kind=Kind.ACCESS,
        person=alice.person,
        channel=Channel.MEMBER_SPACE,
        actor=alice.account,
        identity_verified=True,
    )
    assert request.identity_method == IdentityMethod.LOGGED_IN
    with pytest.raises(RightsError):
        services.ask_identity_document(request=request, reason="Un doute", actor=bob)


# --- Extension (GDPR art. 12(3)) -------------------------------------------------------------
REASON = "Demande portant sur dix ans d'archives papier à rapprocher."


def test_an_extension_within_the_first_month_moves_the_deadline_and_tells_the_person(
    bob, mailoutbox, committed
):
    with time_machine.travel(at(2026, 1, 31), tick=False):
        request = by_letter()
    # The last day of the first month.
    with time_machine.travel(at(2026, 2, 28), tick=False), committed():
        request = services.extend(request=request, reason=REASON, actor=bob)
    assert request.due_date == datetime.date(2026, 4, 30)
    assert request.is_extended and request.extension_notice_sent_at
    notice = mailoutbox[-1]
    assert "prolong" in notice.subject and REASON in notice.body
    assert "30 avril 2026" in notice.body and "CNIL" in notice.body


def test_an_extension_after_the_first_month_is_refused(bob):
    with time_machine.travel(at(2026, 1, 31), tick=False):
        request = by_letter()
    with time_machine.travel(at(2026, 3, 1), tick=False), pytest.raises(RightsError):
        services.extend(request=request, reason=REASON, actor=bob)
    request.refresh_from_db()
    assert request.due_date == datetime.date(2026, 2, 28) and not request.is_extended


def test_an_extension_beyond_two_months_is_refused(bob):
    with time_machine.travel(at(2026, 1, 15), tick=False):
        request = by_letter()
    with time_machine.travel(at(2026, 1, 20), tick=False):
        services.extend(request=request, reason=REASON, actor=bob, months=1)
        services.extend(request=request, reason=REASON, actor=bob, months=1)
        with pytest.raises(RightsError):
            services.extend(request=request, reason=REASON, actor=bob, months=1)
    request.refresh_from_db()
    assert request.extended_months == 2 and request.due_date == datetime.date(2026, 4, 15)
    with time_machine.travel(at(2026, 1, 20), tick=False), pytest.raises(RightsError):
        services.extend(
            request=by_letter(requester_email="b@example.org"), reason=REASON, actor=bob, months=3
        )


def test_an_extension_without_reasons_is_refused(bob):
    request = by_letter()
    for reason in ("", "   ", "complexe"):
        with pytest.raises(RightsError):
            services.extend(request=request, reason=reason, actor=bob)


def test_an_extension_that_cannot_be_notified_is_refused(bob):
    request = services.file_request(
        kind=Kind.ACCESS,
        requester_name="Anonyme",
        requester_address="",
        requester_email="x@example.org",
        channel=Channel.PHONE,
        identity_verified=False,
    )
    RightsRequest.objects.filter(pk=request.pk).update(requester_email="")
    request.refresh_from_db()
    with pytest.raises(RightsError):
        services.extend(request=request, reason=REASON, actor=bob)


# --- Transitions -----------------------------------------------------------------------------
def test_the_transition_table_covers_every_status():
    assert set(TRANSITIONS) == set(Status.values)
    assert TRANSITIONS[Status.CLOSED] == frozenset()


def test_a_request_cannot_be_answered_before_its_identity_is_checked(bob):
    request = by_letter()
    with pytest.raises(InvalidTransition):
        services.answer(request=request, outcome=Outcome.GRANTED, text="Voici.", actor=bob)


def test_invalid_transitions_raise(bob):
    request = by_letter(identity_verified=True, actor=bob)
    services.answer(request=request, outcome=Outcome.GRANTED, text="Voici.", actor=bob)
    with pytest.raises(InvalidTransition):
        services.transition(request=request, status=Status.IN_PROGRESS, actor=bob)
    with pytest.raises(InvalidTransition):
        services.refuse(request=request, reasons="Trop tard pour refuser.", actor=bob)
    services.close(request=request, actor=bob)
    with pytest.raises(InvalidTransition):
        services.close(request=request, actor=bob)
    request.refresh_from_db()
    assert request.status == Status.CLOSED and request.closed_at


# --- Duplicates ------------------------------------------------------------------------------
def test_the_same_open_request_filed_twice_is_one_request(alice, bob):
    first = services.file_request(
        kind=Kind.RESTRICTION,
        person=alice.person,
        channel=Channel.LETTER,
        details={"purposes": ["inquiries"]},
        identity_verified=False,
    )
    second = services.file_request(
        kind=Kind.RESTRICTION,
        person=alice.person,
        channel=Channel.EMAIL,
        details={"purposes": ["website"]},
        identity_verified=False,
    )
    assert second.pk == first.pk
    assert RightsRequest.objects.filter(person=alice.person).count() == 1
    assert second.details["purposes"] == ["inquiries", "website"]
    assert first.events.filter(action=RequestEvent.Action.MERGED).count() == 1
    # Another kind, or once answered, is a new request.
    other = services.file_request(
        kind=Kind.ACCESS, person=alice.person, channel=Channel.LETTER, identity_verified=False
    )
    assert other.pk != first.pk


# --- Answers ---------------------------------------------------------------------------------
def test_every_answer_and_every_refusal_names_the_cnil(bob, mailoutbox, committed):
    with committed():
        answered = by_letter(identity_verified=True, actor=bob)
        services.answer(
            request=answered,
            outcome=Outcome.PARTIAL,
            text="Voici une partie.",
            reasons="Le reste relève d'un tiers.",
            actor=bob,
        )
        refused = by_letter(
            kind=Kind.ERASURE, requester_email="autre@example.org", identity_verified=False
        )
        services.refuse(request=refused, reasons="Identité non établie après relance.", actor=bob)
    for request in (answered, refused):
        request.refresh_from_db()
        assert "CNIL" in request.answer_text and "cnil.fr" in request.answer_text
    assert "Le reste relève d'un tiers." in answered.answer_text
    assert "Identité non établie" in refused.answer_text and "juridiction" in refused.answer_text
    answers = [m for m in mailoutbox if m.subject.startswith("Réponse")]
    assert len(answers) == 2 and all("CNIL" in m.body for m in answers)


def test_a_partial_answer_needs_its_reasons(bob):
    request = by_letter(identity_verified=True, actor=bob)
    with pytest.raises(RightsError):
        services.answer(request=request, outcome=Outcome.PARTIAL, text="Une partie.", actor=bob)


def test_every_step_is_audited_and_no_event_names_a_nir_or_iban(alice, bob):
    request = services.file_request(
        kind=Kind.ACCESS, person=alice.person, channel=Channel.LETTER, identity_verified=False
    )
    services.record_identity_check(request=request, method=IdentityMethod.DOCUMENT, actor=bob)
    services.extend(request=request, reason=REASON, actor=bob)
    processing.process(request=request, actor=bob)
    services.close(request=request, actor=bob)
    events = Event.objects.filter(target=f"rights.rightsrequest:{request.pk}")
    tags = set(events.values_list("tag", flat=True))
    assert {
        "rights:request:file",
        "rights:identity:check",
        "rights:request:status",
        "rights:request:extend",
        "rights:request:answer",
        "rights:request:close",
    } <= tags
    assert all(e.subject_id == str(alice.person.pk) for e in events)
    for event in Event.objects.all():
        assert not holds_nir_or_iban(json.dumps(event.details)), event.tag
    for note in RequestEvent.objects.values_list("note", flat=True):
        assert not holds_nir_or_iban(note)


def test_answered_requests_are_closed_after_a_while_then_archived_by_retention(bob):
    from django.core.management import call_command

    from mutualis.privacy import retention

    with time_machine.travel(at(2026, 1, 5), tick=False):
        request = by_letter(identity_verified=True, actor=bob)
        services.answer(request=request, outcome=Outcome.GRANTED, text="Voici.", actor=bob)
    with time_machine.travel(at(2026, 2, 5), tick=False):
        call_command("close_rights_requests")
    assert RightsRequest.objects.get().status == Status.ANSWERED
    with time_machine.travel(at(2026, 3, 10), tick=False):
        call_command("close_rights_requests")
        call_command("close_rights_requests")  # idempotent
    with time_machine.travel(at(2026, 3, 11), tick=False):
        retention.enforce(only_app="rights")
    request.refresh_from_db()
    assert request.status == Status.CLOSED and request.archived_at is not None
    with time_machine.travel(at(2031, 3, 11), tick=False):
        retention.enforce(only_app="rights")
    assert not RightsRequest.objects.exists()
    assert not RequestEvent.objects.exists()
