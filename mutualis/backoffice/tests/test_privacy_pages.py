"""The DPO's privacy pages: retention, legal holds, the Art. 30 register, the audit log."""

from __future__ import annotations

import csv
import datetime
import io
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.audit.sequencer import sequence_all
from mutualis.backoffice.testing import login_unverified, login_verified, page_text, visible_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban
from mutualis.contact.inbound import ingest
from mutualis.contact.models import Attachment, Message
from mutualis.privacy import catalogue, holds, retention
from mutualis.privacy.models import LegalHold, RetentionRun

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
EMAIL = Path(__file__).resolve().parents[2] / "contact" / "tests" / "fixtures"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def _email() -> Message:
    """An e-mail received on 4 November 2026 (three months later, its body must go)."""
    with time_machine.travel(at(2026, 11, 5, 9), tick=False):
        message, _ = ingest((EMAIL / "multipart_attachments.eml").read_bytes())
    return message


@pytest.fixture
def hold(bob):
    return holds.place_hold(reason="Contentieux prud'homal", actor=bob, subject=uuid.uuid4())


# --- One permission test per view ---------------------------------------------------------------
@dataclass(frozen=True)
class View:
    name: str
    method: str = "get"


VIEWS = [
    View("retention"),
    View("holds"),
    View("hold_place_person", "post"),
    View("hold_place_record", "post"),
    View("hold_release", "post"),
    View("processing_register"),
    View("processing_register_csv"),
    View("audit_log"),
    View("audit_verify", "post"),
]


@pytest.fixture(params=VIEWS, ids=lambda view: view.name)
def view(request):
    return request.param


def _call(client, view: View, hold: LegalHold):
    kwargs = {"hold_id": hold.pk} if view.name == "hold_release" else {}
    url = reverse(f"backoffice:{view.name}", kwargs=kwargs)
    return url, getattr(client, view.method)(url)


def test_anonymous_is_sent_to_the_login(client, view, hold):
    url, response = _call(client, view, hold)
    assert response.status_code == 302
    assert response.url == f"{reverse('backoffice:login')}?next={url}"
    assert "no-store" in response["Cache-Control"]


def test_a_member_is_refused(client, view, hold, alice):
    login_unverified(client, alice.account)
    _, response = _call(client, view, hold)
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]


def test_staff_without_the_permission_is_refused(client, view, hold, charlie):
    login_verified(client, charlie)
    _, response = _call(client, view, hold)
    assert response.status_code == 403
    assert "Votre service n'a pas accès à cette page." in page_text(response)
    assert LegalHold.objects.active().filter(pk=hold.pk).exists()


def test_the_dpo_is_let_in(client, view, hold, bob):
    login_verified(client, bob, reauthenticated=True)  # the register's CSV is an export
    _, response = _call(client, view, hold)
    # The POST views answer an empty form with its errors, a release with a redirect.
    expected = 302 if view.name == "hold_release" else 200
    assert response.status_code == expected
    assert "no-store" in response["Cache-Control"]


def test_a_role_that_only_follows_retention_sees_holds_without_managing_them(
    client, charlie, hold, monkeypatch
):
    from mutualis.members import roles

    granted = roles.ROLE_PERMISSIONS["relation_adherent"] | {roles.Permission.RETENTION_VIEW}
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, "relation_adherent", granted)
    login_verified(client, charlie)
    response = client.get(reverse("backoffice:holds"))
    assert response.status_code == 200
    body = page_text(response)
    assert "Contentieux prud'homal" in body
    assert "Poser un gel" not in body and "Lever le gel" not in body
    refused = client.post(reverse("backoffice:hold_release", args=[hold.pk]))
    assert refused.status_code == 403
    assert LegalHold.objects.active().filter(pk=hold.pk).exists()


def test_the_home_page_links_the_dpo_to_the_privacy_pages(client, bob, charlie):
    login_verified(client, bob)
    body = page_text(client.get(reverse("backoffice:home")))
    for name in ("retention", "holds", "processing_register", "audit_log"):
        assert reverse(f"backoffice:{name}") in body
    login_verified(client, charlie)
    body = page_text(client.get(reverse("backoffice:home")))
    assert reverse("backoffice:retention") not in body


# --- Retention: what the rules will do, what they did -------------------------------------------
def _rule(response, label: str):
    return next(rule for rule in response.context["rules"] if rule.label == label)


def test_the_dry_run_counts_an_expired_email_and_changes_nothing(client, bob):
    message = _email()
    with time_machine.travel(at(2027, 3, 1, 10), tick=False):
        login_verified(client, bob)
        events_before = Event.objects.count()
        response = client.get(reverse("backoffice:retention"))
    assert response.status_code == 200
    assert _rule(response, "contact.Message").to_end == 1  # body to erase
    assert _rule(response, "contact.Attachment").to_end == Attachment.objects.count() > 0
    assert _rule(response, "contact.Inquiry").to_end == 0  # three years not over
    assert _rule(response, "contact.Complaint").to_archive == 0
    text = visible_text(response)
    assert "Message" in text and "à compter de la réception" in text
    assert "constaté" in text
    assert any("contact.Message" in breach for breach in response.context["breaches"])
    # Nothing changed: a dry run is counts only.
    message.refresh_from_db()
    assert message.body and message.content_erased_at is None
    assert Attachment.objects.filter(message=message).exists()
    assert not RetentionRun.objects.exists()
    assert Event.objects.count() == events_before


def test_without_expired_data_there_is_no_breach(client, bob):
    login_verified(client, bob)
    response = client.get(reverse("backoffice:retention"))
    assert response.context["breaches"] == []
    assert "Aucun manquement" in visible_text(response)


def test_a_later_date_can_be_simulated(client, bob):
    message = _email()
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        login_verified(client, bob)
        today = client.get(reverse("backoffice:retention"))
        later = client.get(reverse("backoffice:retention"), {"au": "2027-02-06"})
        past = client.get(reverse("backoffice:retention"), {"au": "2020-01-01"})
    assert _rule(today, "contact.Message").to_end == 0
    assert _rule(later, "contact.Message").to_end == 1
    assert "au 06/02/2027" in visible_text(later)
    assert past.status_code == 200
    assert "Choisissez une date entre aujourd'hui et dans 10 ans." in page_text(past)
    message.refresh_from_db()
    assert message.body


def test_the_runs_list_shows_what_a_run_did(client, bob):
    _email()
    with time_machine.travel(at(2027, 3, 1, 10), tick=False):
        call_command("enforce_retention", stdout=io.StringIO())
    with time_machine.travel(at(2027, 3, 1, 11), tick=False):
        call_command("enforce_retention", "--dry-run", stdout=io.StringIO())
        login_verified(client, bob)
        response = client.get(reverse("backoffice:retention"))
    dry, real = response.context["runs"]  # newest first
    assert not real.run.dry_run and dry.run.dry_run
    assert any(line.label == "contact.Message" and line.rows == 1 for line in real.lines)
    assert dry.total == 0  # the real run already did everything
    text = visible_text(response)
    assert "exécution réelle" in text and "simulation" in text
    assert "suppression ou anonymisation : 1 ligne" in text
    assert _rule(response, "contact.Message").to_end == 0


# --- Legal holds --------------------------------------------------------------------------------
def test_placing_and_releasing_a_hold_on_a_member_is_audited(client, bob, alice):
    login_verified(client, bob)
    response = client.post(
        reverse("backoffice:hold_place_person"),
        {"personne-member_number": alice.number.lower(), "personne-reason": "Contentieux"},
        follow=True,
    )
    hold = LegalHold.objects.get()
    assert hold.subject_id == str(alice.person_id) and hold.released_at is None
    assert hold.reason == "Contentieux" and hold.created_by == f"user:{bob.pk}"
    created = Event.objects.get(tag="privacy:hold:create")
    assert created.actor == f"user:{bob.pk}" and created.subject_id == str(alice.person_id)
    text = visible_text(response)
    assert f"Gel posé sur les données de l'adhérent n° {alice.number}" in text
    assert f"adhérent n° {alice.number}" in text and bob.display_name in text
    assert_no_full_nir_or_iban(response, alice)

    response = client.post(reverse("backoffice:hold_release", args=[hold.pk]), follow=True)
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == f"user:{bob.pk}"
    released = Event.objects.get(tag="privacy:hold:release")
    assert released.subject_id == str(alice.person_id)
    assert f"Gel n° {hold.pk} levé" in visible_text(response)
    assert response.context["active"] == [] and response.context["released"][0].hold == hold

    again = client.post(reverse("backoffice:hold_release", args=[hold.pk]), follow=True)
    assert "était déjà levé" in visible_text(again)
    assert Event.objects.filter(tag="privacy:hold:release").count() == 1


def test_a_hold_on_a_record_stops_its_clock(client, bob):
    message = _email()
    login_verified(client, bob)
    response = client.post(
        reverse("backoffice:hold_place_record"),
        {
            "enregistrement-model": "contact.message",
            "enregistrement-record_id": str(message.pk),
            "enregistrement-reason": "Réquisition judiciaire",
        },
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert hold.target == f"contact.message:{message.pk}"
    assert Event.objects.filter(tag="privacy:hold:create", target=f"privacy.legalhold:{hold.pk}")
    with time_machine.travel(at(2027, 3, 1, 10), tick=False):
        retention.enforce()
    message.refresh_from_db()
    assert message.body  # held: not erased
    login_verified(client, bob)  # the run, months later, also ended the expired session
    page = visible_text(client.get(reverse("backoffice:holds")))
    assert f"Message n° {message.pk}" in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"personne-member_number": "A000000000", "personne-reason": "Contentieux"},
            "Aucun adhérent ne porte ce numéro.",
        ),
        (
            {"personne-member_number": "12345", "personne-reason": "Contentieux"},
            "Un numéro d'adhérent s'écrit A suivi de 9 chiffres.",
        ),
        ({"personne-member_number": "", "personne-reason": "x"}, "Saisissez le numéro"),
        (
            {"personne-member_number": "{number}", "personne-reason": "   "},
            "Indiquez le motif du gel (5 caractères au moins).",
        ),
    ],
)
def test_invalid_person_holds_are_refused_in_french(client, bob, alice, data, error):
    login_verified(client, bob)
    data = {k: v.format(number=alice.number) for k, v in data.items()}
    response = client.post(reverse("backoffice:hold_place_person"), data)
    assert response.status_code == 200
    text = page_text(response)
    assert error in text and "Le gel n'a pas été posé" in text
    assert not LegalHold.objects.exists()
    assert not Event.objects.filter(tag="privacy:hold:create").exists()


@pytest.mark.parametrize(
    ("model", "record_id", "reason", "error"),
    [
        ("members.person", "1", "Contentieux", "n'a pas de règle de conservation"),
        ("audit.event", "1", "Contentieux", "n'a pas de règle de conservation"),
        ("contact.inquiry", "not-a-uuid", "Contentieux", "Aucun enregistrement « Demande »"),
        ("contact.inquiry", "{uuid}", "Contentieux", "Aucun enregistrement « Demande »"),
        ("contact.inquiry", "{inquiry}", "", "Indiquez le motif du gel"),
        ("", "{inquiry}", "Contentieux", "Choisissez le type d'enregistrement."),
    ],
)
def test_invalid_record_holds_are_refused_in_french(client, bob, model, record_id, reason, error):
    inquiry = _email().inquiry
    login_verified(client, bob)
    response = client.post(
        reverse("backoffice:hold_place_record"),
        {
            "enregistrement-model": model,
            "enregistrement-record_id": record_id.format(
                inquiry=inquiry.pk, uuid="0b5f9a4e-1c1d-4c1e-9a7b-2f0d7f4d9e11"
            ),
            "enregistrement-reason": reason,
        },
    )
    assert response.status_code == 200
    assert error in page_text(response)
    assert not LegalHold.objects.exists()


def test_a_nir_or_iban_typed_in_a_hold_is_refused_and_not_written_back(client, bob, alice):
    login_verified(client, bob)
    nir = alice.person.nir
    iban = alice.mandates.get().iban
    response = client.post(
        reverse("backoffice:hold_place_person"),
        {"personne-member_number": nir, "personne-reason": f"Dossier {iban}"},
    )
    assert response.status_code == 200
    assert "N'y recopiez aucun numéro de sécurité sociale ni aucun IBAN" in page_text(response)
    assert_no_full_nir_or_iban(response, alice)
    assert not LegalHold.objects.exists()


def test_a_second_hold_on_the_same_member_is_refused(client, bob, alice):
    holds.place_hold(reason="Contentieux", actor=bob, subject=alice.person_id)
    login_verified(client, bob)
    response = client.post(
        reverse("backoffice:hold_place_person"),
        {"personne-member_number": alice.number, "personne-reason": "Autre motif"},
    )
    assert "fait déjà l'objet d'un gel en cours" in page_text(response)
    assert LegalHold.objects.count() == 1


def test_releasing_an_unknown_hold_is_not_found(client, bob):
    login_verified(client, bob)
    response = client.post(reverse("backoffice:hold_release", args=[999]))
    assert response.status_code == 404


# --- The Art. 30 register -----------------------------------------------------------------------
def test_the_register_page_lists_every_purpose(client, bob):
    login_verified(client, bob)
    response = client.get(reverse("backoffice:processing_register"))
    text = page_text(response)
    for purpose in catalogue.ALL_PURPOSES:
        assert purpose.title in text
        assert purpose.retention.source in text
    assert reverse("backoffice:processing_register_csv") in text


def test_the_register_downloads_as_csv(client, bob):
    login_verified(client, bob, reauthenticated=True)
    response = client.get(reverse("backoffice:processing_register_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["finalite"] for r in rows] == [p.title for p in catalogue.ALL_PURPOSES]


# --- The audit log ------------------------------------------------------------------------------
def test_the_audit_log_shows_the_latest_events_first(client, bob, alice):
    holds.place_hold(reason="Contentieux", actor=bob, subject=alice.person_id)
    login_verified(client, bob)
    response = client.get(reverse("backoffice:audit_log"))
    rows = response.context["rows"]
    assert rows[0].event.tag == "privacy:hold:create"
    assert [r.event.pk for r in rows] == sorted((r.event.pk for r in rows), reverse=True)
    assert "en attente" in visible_text(response)  # not placed yet: the sequencer has not run
    sequence_all()
    placed = client.get(reverse("backoffice:audit_log")).context["rows"]
    assert [r.event.seq for r in placed] == sorted((r.event.seq for r in placed), reverse=True)
    assert '"scope": "person"' in page_text(response)
    assert_no_full_nir_or_iban(response, alice)


def test_the_audit_log_filters_by_person_or_tag_prefix(client, bob, alice, dave):
    holds.place_hold(reason="Contentieux", actor=bob, subject=alice.person_id)
    login_verified(client, bob)
    url = reverse("backoffice:audit_log")
    by_number = client.get(url, {"personne": alice.number})
    assert by_number.context["rows"]
    assert {r.event.subject_id for r in by_number.context["rows"]} == {str(alice.person_id)}
    by_id = client.get(url, {"personne": str(dave.person_id)})
    assert {r.event.subject_id for r in by_id.context["rows"]} == {str(dave.person_id)}
    by_tag = client.get(url, {"nature": "privacy:hold:"})
    assert [r.event.tag for r in by_tag.context["rows"]] == ["privacy:hold:create"]
    assert all(
        r.event.tag.startswith("privacy:")
        for r in client.get(url, {"nature": "privacy:"}).context["rows"]
    )
    both = client.get(url, {"personne": str(dave.person_id), "nature": "privacy:"})
    assert both.context["rows"] == []
    assert "Aucun événement ne correspond à ce filtre" in visible_text(both)


def test_the_audit_log_refuses_a_nir_as_a_filter(client, bob, alice):
    login_verified(client, bob)
    response = client.get(reverse("backoffice:audit_log"), {"personne": alice.person.nir})
    assert response.status_code == 200
    assert "N'y recopiez aucun numéro de sécurité sociale" in page_text(response)
    assert response.context["rows"] == []
    assert_no_full_nir_or_iban(response, alice)
    bad = client.get(reverse("backoffice:audit_log"), {"personne": "<x>", "nature": "A B"})
    assert bad.status_code == 200 and "Une nature s'écrit en minuscules" in page_text(bad)


def test_the_audit_log_filter_posts_so_a_nir_typed_in_it_never_reaches_an_address(
    client, bob, alice
):
    login_verified(client, bob)
    page = page_text(client.get(reverse("backoffice:audit_log")))
    form = re.search(r'<form[^>]*aria-label="Filtrer le journal"[^>]*>', page).group()
    assert 'method="post"' in form
    refused = client.post(reverse("backoffice:audit_filter"), {"personne": alice.person.nir[:13]})
    assert refused.status_code == 200 and refused.context["rows"] == []
    assert "N'y recopiez aucun numéro de sécurité sociale" in page_text(refused)
    assert_no_full_nir_or_iban(refused, alice)
    assert alice.person.nir[:13] not in page_text(refused)
    kept = client.post(
        reverse("backoffice:audit_filter"), {"personne": alice.number, "nature": "privacy:"}
    )
    assert kept.status_code == 302
    assert kept["Location"] == (
        f"{reverse('backoffice:audit_log')}?personne={alice.person_id}&nature=privacy%3A"
    )


def test_the_audit_log_pages_by_event_number(client, bob, alice, dave, monkeypatch):
    from mutualis.backoffice.privacy import views as privacy

    monkeypatch.setattr(privacy, "EVENTS_PER_PAGE", 3)
    login_verified(client, bob)
    url = reverse("backoffice:audit_log")
    first = client.get(url)
    ids = [r.event.pk for r in first.context["rows"]]
    assert len(ids) == 3 and first.context["older"] == ids[-1]
    second = client.get(url, {"avant": ids[-1]})
    assert [r.event.pk for r in second.context["rows"]] == [i - 3 for i in ids]
    assert "Événements les plus récents" in visible_text(second)
    assert client.get(url, {"avant": "x"}).status_code == 200


def test_the_verify_button_checks_the_chain(client, bob, alice):
    login_verified(client, bob)
    response = client.post(reverse("backoffice:audit_verify"))
    assert response.status_code == 200
    verification = response.context["verification"]
    assert verification.ok and verification.checked == Event.objects.count()
    assert "Journal intègre" in visible_text(response)


def test_the_verify_button_names_the_first_broken_link(client, bob, alice):
    sequence_all()
    event = Event.objects.order_by("link__seq")[1]
    with connection.cursor() as cursor:  # tampering behind the ORM's back, as the table owner
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        cursor.execute("UPDATE audit_event SET actor = %s WHERE id = %s", ["user:forged", event.pk])
    login_verified(client, bob)
    response = client.post(reverse("backoffice:audit_verify"))
    assert not response.context["verification"].ok
    assert f"Chaîne rompue à l'événement n° {event.seq}" in visible_text(response)


# --- Every page: French, accessible, strict CSP, never cached ------------------------------------
@pytest.fixture
def pages(client, bob, alice):
    _email()
    holds.place_hold(reason="Contentieux", actor=bob, subject=alice.person_id)
    login_verified(client, bob)
    return {
        "retention": client.get(reverse("backoffice:retention")),
        "retention-error": client.get(reverse("backoffice:retention"), {"au": "demain"}),
        "holds": client.get(reverse("backoffice:holds")),
        "hold-error": client.post(reverse("backoffice:hold_place_record"), {}),
        "register": client.get(reverse("backoffice:processing_register")),
        "audit": client.get(reverse("backoffice:audit_log")),
        "verify": client.post(reverse("backoffice:audit_verify")),
    }


def test_privacy_pages_are_french_accessible_and_csp_safe(pages, alice):
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert '<html lang="fr">' in body and body.count("<h1") == 1, name
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), name
        assert "<style" not in body and " style=" not in body, name
        for field_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', body):
            assert f'for="{field_id}"' in body, (name, field_id)
        assert_no_full_nir_or_iban(response, alice)
