"""The breach register: the 72-hour clock at its edge, the notification's late reason, the
decision to inform (art. 34(3)), the letters through a real SMTP server, the art. 18 guard,
the CNIL draft and the CSV export; every change audited."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.testing import login_verified, page_text, visible_text
from mutualis.breaches import cnil, letters, services
from mutualis.breaches.clock import ClockState, clock
from mutualis.breaches.models import AffectedPerson, NotInformGround, PeopleDecision, Risk
from mutualis.breaches.tags import BreachTag
from mutualis.breaches.testing import breach_values, recorded_breach
from mutualis.privacy import restrictions
from mutualis.privacy.models import RestrictionGround

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 1, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _breach(bob, **changes):
    return recorded_breach(actor=bob, discovered_at=NOW, started_at=None, **changes)


def test_a_breach_is_recorded_with_a_reference_and_audited_without_its_text(bob):
    breach = _breach(bob)
    assert breach.reference == "VD-2026-001"
    assert _breach(bob).reference == "VD-2026-002"
    event = Event.objects.filter(tag=BreachTag.RECORD).first()
    assert event.actor == f"user:{bob.pk}" and event.details == {}


def test_the_clock_runs_72_hours_from_discovery_to_the_second(bob, frozen_time):
    breach = _breach(bob)
    frozen_time.shift(datetime.timedelta(hours=72))
    assert clock(breach).state == ClockState.RUNNING
    frozen_time.shift(datetime.timedelta(seconds=1))
    assert clock(breach).state == ClockState.OVERDUE
    assert "dépassé" in clock(breach).text


def test_a_notification_after_72_hours_needs_the_reason_for_the_delay(bob, frozen_time):
    breach = _breach(bob)
    frozen_time.shift(datetime.timedelta(hours=80))
    with pytest.raises(services.BreachError, match="motif du retard"):
        services.record_notification(
            breach=breach,
            sent_at=NOW + datetime.timedelta(hours=73),
            reference="",
            late_reason="",
            actor=bob,
        )
    breach = services.record_notification(
        breach=breach,
        sent_at=NOW + datetime.timedelta(hours=73),
        reference="CNIL-123",
        late_reason="Étendue de la fuite établie le troisième jour.",
        actor=bob,
    )
    assert clock(breach).state == ClockState.NOTIFIED_LATE
    assert Event.objects.filter(tag=BreachTag.NOTIFY).get().details == {"late": True}


def test_a_notification_within_72_hours_needs_no_reason(bob):
    breach = services.record_notification(
        breach=_breach(bob), sent_at=NOW, reference="", late_reason="", actor=bob
    )
    assert clock(breach).state == ClockState.NOTIFIED


def test_a_sending_date_before_discovery_or_in_the_future_is_refused(bob):
    for when in (NOW - datetime.timedelta(minutes=1), NOW + datetime.timedelta(minutes=1)):
        with pytest.raises(services.BreachError):
            services.record_notification(
                breach=_breach(bob), sent_at=when, reference="", late_reason="", actor=bob
            )


def test_a_high_risk_breach_is_told_to_the_people_unless_art_34_3_applies(bob):
    breach = _breach(bob, risk=Risk.HIGH)
    with pytest.raises(services.BreachError, match="34"):
        services.decide_information(
            breach=breach, decision=PeopleDecision.NOT_INFORM, ground="", note="", actor=bob
        )
    breach = services.decide_information(
        breach=breach,
        decision=PeopleDecision.NOT_INFORM,
        ground=NotInformGround.PROTECTED,
        note="Chiffré",
        actor=bob,
    )
    assert breach.not_inform_ground == NotInformGround.PROTECTED
    draft = dict(cnil.draft(breach)[-1].fields)
    assert "34(3)(a)" in draft["Motif"]


def test_letters_reach_the_people_by_real_smtp_and_by_post(
    bob, alice, dave, smtp_server, django_capture_on_commit_callbacks
):
    breach = _breach(bob, risk=Risk.HIGH)
    dave.person.email = ""
    dave.person.save()
    unknown = services.add_people(
        breach=breach, member_numbers=[alice.number, dave.number, "A000000000"], actor=bob
    )
    assert unknown == ["A000000000"]
    assert AffectedPerson.objects.filter(breach=breach).count() == 4  # each with their child
    with pytest.raises(services.BreachError):
        letters.send_letters(breach=breach, actor=bob)  # no decision yet
    services.decide_information(
        breach=breach, decision=PeopleDecision.INFORM, ground="", note="", actor=bob
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = letters.send_letters(breach=breach, actor=bob)
    assert counts["email"] >= 1 and counts["post"] >= 1 and counts["withheld"] == 0
    mailed = {m.rcpt_tos[0] for m in smtp_server.messages}
    assert alice.person.email in mailed
    body = next(m.body for m in smtp_server.messages if m.rcpt_tos == [alice.person.email])
    assert breach.reference in body and "délégué à la protection des données" in body
    assert breach.consequences in body and alice.person.nir not in body
    postal = letters.postal_letters(breach=breach, actor=bob)
    assert "Dave Durand" in postal and dave.person.city in postal
    breach.refresh_from_db()
    assert breach.people_informed_at == NOW
    again = letters.send_letters(breach=breach, actor=bob)
    assert again == {"email": 0, "post": 0, "withheld": 0}  # nobody written to twice


def test_a_restricted_person_is_not_written_to(
    bob, alice, smtp_server, django_capture_on_commit_callbacks
):
    breach = _breach(bob, risk=Risk.HIGH)
    services.add_people(breach=breach, member_numbers=[alice.number], actor=bob)
    restrictions.start(
        subject=alice.person, purpose="*", ground=RestrictionGround.RESTRICTION, reason="Contestée"
    )
    services.decide_information(
        breach=breach, decision=PeopleDecision.INFORM, ground="", note="", actor=bob
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = letters.send_letters(breach=breach, actor=bob)
    assert counts["withheld"] >= 1 and alice.person.email not in {
        m.rcpt_tos[0] for m in smtp_server.messages
    }


def test_the_cnil_draft_fills_the_form_s_sections_from_the_record(bob):
    breach = _breach(bob)
    text = cnil.as_text(breach)
    for heading in ("2. Organisme", "3. Chronologie", "5. Données et personnes", "7. Mesures"):
        assert heading in text
    assert "Nombre approximatif de personnes : environ 40" in text
    assert "Identité" in text and "Perte de confidentialité" in text


def test_the_register_exports_as_csv_and_the_export_is_audited(client, bob):
    _breach(bob)
    login_verified(client, bob, reauthenticated=True)
    response = client.get(reverse("backoffice:breach_register_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Référence", "Intitulé"] and rows[1][0] == "VD-2026-001"
    assert Event.objects.filter(tag=BreachTag.REGISTER_EXPORT).get().details == {"rows": 1}


def test_the_clock_is_shown_on_every_page_of_the_dpo_until_notified(client, bob):
    breach = _breach(bob)
    login_verified(client, bob)
    for url in (
        reverse("backoffice:home"),
        reverse("backoffice:member_search"),
        reverse("backoffice:breach_register"),
    ):
        text = visible_text(client.get(url))
        assert "Violations de données à notifier" in text and breach.reference in text, url
    assert "72 h 00 pour notifier la CNIL" in visible_text(
        client.get(reverse("backoffice:breach_detail", args=[breach.pk]))
    )
    services.record_notification(
        breach=breach, sent_at=NOW, reference="", late_reason="", actor=bob
    )
    assert "Violations de données à notifier" not in visible_text(
        client.get(reverse("backoffice:home"))
    )


def test_recording_a_breach_through_the_page(client, bob):
    login_verified(client, bob)
    values = breach_values(discovered_at=NOW, started_at=None)
    data = {
        **{
            k: v
            for k, v in values.items()
            if v is not None and not isinstance(v, list | datetime.datetime)
        },
        "discovered_at": "01/06/2026 10:00",
        "natures": values["natures"],
        "data_categories": values["data_categories"],
        "subject_groups": values["subject_groups"],
    }
    response = client.post(reverse("backoffice:breach_record"), data)
    assert response.status_code == 302
    bad = client.post(reverse("backoffice:breach_record"), {**data, "discovered_at": "demain"})
    assert 'class="error-summary"' in page_text(bad) and "Saisissez une date" in page_text(bad)


def _events(tag: str) -> list[Event]:
    return list(Event.objects.filter(tag=tag).order_by("id"))


def test_each_change_to_a_breach_is_audited_by_its_author_and_without_its_text(bob, alice):
    breach = _breach(bob)
    (recorded,) = _events(BreachTag.RECORD)

    renamed = breach_values(
        discovered_at=NOW, started_at=None, title="Relevés envoyés à une liste erronée"
    )
    services.update_breach(breach=breach, values=renamed, actor=bob)
    services.update_breach(breach=breach, values=renamed, actor=bob)  # nothing changed
    (edited,) = _events(BreachTag.UPDATE)
    assert edited.details == {"fields": ["title"]}  # which fields, never what they say

    services.decide_information(
        breach=breach, decision=PeopleDecision.INFORM, ground="", note="", actor=bob
    )
    (decided,) = _events(BreachTag.DECIDE)
    assert decided.details == {"decision": "inform", "ground": ""}

    assert services.add_people(breach=breach, member_numbers=[alice.number], actor=bob) == []
    added = _events(BreachTag.PEOPLE_ADD)
    concerned = {alice.person_id, *(b.person_id for b in alice.beneficiaries.all())}
    assert sorted(e.subject_id for e in added) == sorted(str(pk) for pk in concerned)
    assert len(added) == 2  # alice and her child
    services.add_people(breach=breach, member_numbers=[alice.number], actor=bob)
    assert len(_events(BreachTag.PEOPLE_ADD)) == 2  # already named: nothing new to record

    services.close(breach=breach, actor=bob)
    services.reopen(breach=breach, actor=bob)
    (closed,), (reopened,) = _events(BreachTag.CLOSE), _events(BreachTag.REOPEN)
    for event in (edited, decided, *added, closed, reopened):
        assert (event.actor, event.target) == (f"user:{bob.pk}", recorded.target), event.tag


def test_a_refused_change_to_a_breach_writes_no_event(bob):
    breach = _breach(bob, risk=Risk.UNASSESSED)
    with pytest.raises(services.BreachError):
        services.close(breach=breach, actor=bob)  # the risk must be assessed first
    with pytest.raises(services.BreachError):
        services.reopen(breach=breach, actor=bob)  # already open
    with pytest.raises(services.BreachError):
        services.decide_information(breach=breach, decision="maybe", ground="", note="", actor=bob)
    assert not Event.objects.exclude(tag=BreachTag.RECORD).exists()


def test_a_change_whose_event_cannot_be_written_is_not_kept(bob, monkeypatch):
    """The event is written in the change's own transaction: no change without its trace."""
    breach = _breach(bob)

    def refuse(*args, **kwargs):
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr("mutualis.breaches.services.audit.record", refuse)
    renamed = breach_values(discovered_at=NOW, started_at=None, title="Autre intitulé")
    with pytest.raises(RuntimeError):
        services.update_breach(breach=breach, values=renamed, actor=bob)
    with pytest.raises(RuntimeError):
        services.close(breach=breach, actor=bob)
    breach.refresh_from_db()
    assert breach.title != "Autre intitulé" and breach.closed_at is None
