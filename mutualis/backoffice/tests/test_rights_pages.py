"""Rights requests in the back office: registering a request from any channel, the steps of a
request, restrictions and their banner, deaths, and the DPO's dashboard with its charts.

Personas: alice (a member), bob (the DPO), charlie (relation adhérent: may register a request but
neither follow nor decide), gina (gestion: reveals NIRs), ada (admin: nothing about rights).
"""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo
from dataclasses import dataclass, field

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.members.reveal import format_nir
from mutualis.backoffice.testing import login_unverified, login_verified, page_text, visible_text
from mutualis.backoffice.tests.helpers import assert_no_full_nir_or_iban
from mutualis.members.models import Person, User
from mutualis.members.testing import make_nir
from mutualis.privacy import restrictions
from mutualis.privacy.models import Restriction, RestrictionGround
from mutualis.rights import post_mortem, processing, services
from mutualis.rights.models import (
    Channel,
    IdentityMethod,
    Kind,
    PostMortemDirective,
    RequestEvent,
    RightsRequest,
    Status,
)

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
GROUNDS = "Motifs légitimes et impérieux : contentieux en cours"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def by_letter(actor=None, **extra) -> RightsRequest:
    """A letter from a visitor with no account and no record: received, identity unchecked."""
    values = {
        "kind": Kind.ACCESS,
        "requester_name": "Marc Leroy",
        "requester_address": "12 rue des Lilas\n75011 Paris",
        "channel": Channel.LETTER,
        "identity_verified": False,
        "actor": actor,
        **extra,
    }
    return services.file_request(**values)


def for_alice(alice, kind=Kind.ACCESS, actor=None, **extra) -> RightsRequest:
    """A letter from alice, identity checked when it was taken: in progress."""
    return services.file_request(
        kind=kind,
        person=alice.person,
        channel=Channel.LETTER,
        identity_verified=True,
        identity_method=IdentityMethod.DOCUMENT,
        actor=actor,
        **extra,
    )


def register_data(**fields) -> dict:
    data = {
        "kind": Kind.ACCESS,
        "channel": Channel.LETTER,
        "received_on": datetime.date.today().isoformat(),
        "requester_capacity": "self",
        "identity": "later",
    }
    data.update(fields)
    return data


def page_of(rights_request) -> str:
    return reverse("backoffice:rights_request", args=[rights_request.pk])


# --- One permission test per view ---------------------------------------------------------------
VIEW, REGISTER, DECIDE = "view", "register", "decide"
# A role holding, and one lacking, each permission.
ALLOWED = {VIEW: "dpo", REGISTER: "relation_adherent", DECIDE: "dpo"}
REFUSED = {VIEW: "relation_adherent", REGISTER: "admin", DECIDE: "relation_adherent"}


@dataclass(frozen=True)
class View:
    name: str
    method: str
    permission: str
    target: str = "letter"  # what the URL points at: a request, the person or a restriction
    data: dict = field(default_factory=dict)


VIEWS = [
    View("rights_dashboard", "get", VIEW, "none"),
    View("rights_register", "get", REGISTER, "none"),
    View("rights_request", "get", VIEW),
    View("rights_identity", "post", DECIDE, data={"identite-method": "other"}),
    View("rights_ask_document", "post", DECIDE, data={"justificatif-reason": "Signature"}),
    View(
        "rights_extend",
        "post",
        DECIDE,
        data={"prolongation-months": "2", "prolongation-reason": "Demande très complexe"},
    ),
    View("rights_process", "post", DECIDE, "objection"),
    View("rights_rectify", "post", DECIDE),
    View(
        "rights_objection",
        "post",
        DECIDE,
        "objection",
        {"opposition-decision": "upheld", "opposition-grounds": GROUNDS},
    ),
    View(
        "rights_answer",
        "post",
        DECIDE,
        "objection",
        {"reponse-outcome": "granted", "reponse-text": "Votre opposition est admise."},
    ),
    View("rights_refuse", "post", DECIDE, data={"refus-reasons": "Identité non établie."}),
    View("rights_close", "post", DECIDE),
    View("rights_note", "post", DECIDE, data={"note-note": "Appel du demandeur"}),
    View("rights_attach", "post", DECIDE, "letter", {"rattacher-person_ref": "alice@example.org"}),
    View("rights_export", "post", DECIDE),
    View("rights_person", "get", VIEW, "person"),
    View(
        "rights_death",
        "post",
        DECIDE,
        "person",
        {
            "deces-date_of_death": "2026-01-02",
            "deces-proof_type": "certificate",
            "deces-confirm": "on",
        },
    ),
    View(
        "rights_restriction_notice",
        "post",
        DECIDE,
        "restriction",
        {"avis-reason": "Fin de la vérification"},
    ),
    View("rights_restriction_lift", "post", DECIDE, "restriction"),
    View(
        "rights_restriction_override",
        "post",
        DECIDE,
        "restriction",
        {"exception-use": "members:nir:reveal", "exception-reason": "Contentieux prud'homal"},
    ),
]


@pytest.fixture(params=VIEWS, ids=lambda view: view.name)
def view(request):
    return request.param


def _call(client, view: View, alice):
    data = dict(view.data)
    if view.target == "letter":
        kwargs = {"request_id": by_letter().pk}
    elif view.target == "objection":
        request = for_alice(
            alice, Kind.OBJECTION, details={"purposes": ["inquiries"], "grounds": "Raisons"}
        )
        kwargs = {"request_id": request.pk}
    elif view.target == "person":
        kwargs = {"person_id": alice.person_id}
    elif view.target == "restriction":
        restriction = restrictions.start(
            subject=alice.person,
            purpose="*",
            ground=RestrictionGround.RESTRICTION,
            reason="Exactitude contestée",
        )
        kwargs = {"restriction_id": restriction.pk}
        data = {f"r{restriction.pk}-{key}": value for key, value in data.items()}
    else:
        kwargs = {}
    url = reverse(f"backoffice:{view.name}", kwargs=kwargs)
    response = client.post(url, data) if view.method == "post" else client.get(url)
    return url, response


def test_anonymous_is_sent_to_the_login(client, view, alice):
    url, response = _call(client, view, alice)
    assert response.status_code == 302
    assert response.url == f"{reverse('backoffice:login')}?next={url}"
    assert "no-store" in response["Cache-Control"]


def test_a_member_is_refused(client, view, alice):
    login_unverified(client, alice.account)
    _, response = _call(client, view, alice)
    assert response.status_code == 403


def test_staff_without_the_permission_is_refused(client, view, alice, staff):
    login_verified(client, staff(REFUSED[view.permission]))
    count = RightsRequest.objects.count()
    _, response = _call(client, view, alice)
    assert response.status_code == 403
    assert "Votre service n'a pas accès à cette page." in page_text(response)
    assert not RequestEvent.objects.filter(actor__startswith="user:").exists()
    assert RightsRequest.objects.count() == count + (view.target in ("letter", "objection"))


def test_staff_with_the_permission_are_served(client, view, alice, staff):
    login_verified(client, staff(ALLOWED[view.permission]))
    _, response = _call(client, view, alice)
    assert response.status_code in (200, 302), page_text(response)[:2000]
    assert "no-store" in response["Cache-Control"]


def test_a_service_that_only_follows_requests_sees_no_action(client, bob, charlie, monkeypatch):
    from mutualis.members import roles

    granted = roles.ROLE_PERMISSIONS["relation_adherent"] | {roles.Permission.RIGHTS_VIEW}
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, "relation_adherent", granted)
    request = by_letter()
    login_verified(client, charlie)
    response = client.get(page_of(request))
    assert response.status_code == 200
    text = visible_text(response)
    assert "Traiter la demande" not in text
    assert "reviennent au délégué à la protection des données" in text
    refused = client.post(reverse("backoffice:rights_refuse", args=[request.pk]))
    assert refused.status_code == 403


# --- Registering a request ----------------------------------------------------------------------
def test_a_letter_from_someone_without_an_account_is_registered(client, charlie, mailoutbox):
    login_verified(client, charlie)
    data = register_data(
        requester_name="Marc Leroy",
        requester_address="12 rue des Lilas\n75011 Paris",
        summary="Demande la copie de ses données (prospect, devis de 2025).",
    )
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        data["received_on"] = "2026-03-09"
        response = client.post(reverse("backoffice:rights_register"), data, follow=True)
    request = RightsRequest.objects.get()
    assert request.person is None and request.requester_name == "Marc Leroy"
    assert request.channel == Channel.LETTER and request.status == Status.RECEIVED
    assert request.due_date == datetime.date(2026, 4, 9)
    assert request.details == {
        "summary": "Demande la copie de ses données (prospect, devis de 2025)."
    }
    # charlie may register but not follow requests: back to the form, with the reference.
    assert response.redirect_chain[-1][0] == reverse("backoffice:rights_register")
    assert f"Demande {request.reference} enregistrée" in visible_text(response)
    # No e-mail address: the acknowledgement is a letter for staff to post.
    assert mailoutbox == []
    assert request.events.filter(action=RequestEvent.Action.LETTER).exists()


def test_a_request_for_a_known_person_is_registered_and_a_duplicate_merged(
    client, bob, alice, django_capture_on_commit_callbacks
):
    login_verified(client, bob, reauthenticated=True)  # the copy is an export
    data = register_data(
        kind=Kind.ERASURE,
        channel=Channel.EMAIL,
        person_ref=alice.number,
        identity="other",
        identity_note="Questions sur le contrat posées au téléphone",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:rights_register"), data)
    request = RightsRequest.objects.get()
    assert response.status_code == 302 and response.url == page_of(request)
    assert request.person == alice.person and request.status == Status.IN_PROGRESS
    assert request.identity_method == IdentityMethod.OTHER and request.identity_checked_by == bob
    [ack] = mail.outbox
    assert ack.to == [alice.person.email]

    again = register_data(
        kind=Kind.ERASURE,
        channel=Channel.PHONE,
        person_ref=alice.person.email.upper(),
        summary="Rappelle pour sa demande",
    )
    response = client.post(reverse("backoffice:rights_register"), again, follow=True)
    assert RightsRequest.objects.count() == 1
    text = visible_text(response)
    assert "était déjà en cours pour cette personne" in text and request.reference in text
    assert "demande jointe" in text
    request.refresh_from_db()
    assert request.details["summary"] == "Rappelle pour sa demande"
    assert request.events.filter(action=RequestEvent.Action.MERGED).count() == 1


def test_registering_with_a_document_request_pauses_the_deadline(client, bob, alice):
    login_verified(client, bob)
    data = register_data(
        person_ref=alice.number, identity="ask", identity_note="La signature ne correspond pas"
    )
    with time_machine.travel(at(2026, 1, 10, 9), tick=False):
        data["received_on"] = "2026-01-10"
        client.post(reverse("backoffice:rights_register"), data)
    request = RightsRequest.objects.get()
    assert request.status == Status.AWAITING_IDENTITY
    assert request.due_date == datetime.date(2026, 2, 10)
    # Long past the first deadline, the request is not overdue: its clock waits.
    with time_machine.travel(at(2026, 3, 1, 9), tick=False):
        login_verified(client, bob)  # the session expired meanwhile
        board = page_text(client.get(reverse("backoffice:rights_dashboard")))
        table = board.split("<tbody>")[1].split("</tbody>")[0]
        assert "délai suspendu" in table and "late" not in table
        client.post(
            reverse("backoffice:rights_identity", args=[request.pk]),
            {"identite-method": "document", "identite-note": "Carte d'identité reçue"},
        )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS and request.waited_days == 50
    assert request.due_date == datetime.date(2026, 2, 10) + datetime.timedelta(days=50)


def test_asking_a_document_from_the_request_page_pauses_the_deadline(client, bob):
    login_verified(client, bob)
    with time_machine.travel(at(2026, 5, 4, 9), tick=False):
        request = by_letter()
        response = client.post(
            reverse("backoffice:rights_ask_document", args=[request.pk]),
            {"justificatif-reason": "Adresse différente de celle du dossier"},
            follow=True,
        )
        assert "le délai de réponse est suspendu" in visible_text(response)
    with time_machine.travel(at(2026, 5, 14, 9), tick=False):
        login_verified(client, bob)  # the session expired meanwhile
        client.post(
            reverse("backoffice:rights_identity", args=[request.pk]),
            {"identite-method": "document"},
        )
    request.refresh_from_db()
    assert request.waited_days == 10 and request.due_date == datetime.date(2026, 6, 14)


def test_an_extension_after_the_first_month_is_refused_in_french(client, bob, alice):
    login_verified(client, bob)
    with time_machine.travel(at(2026, 1, 10, 9), tick=False):
        request = for_alice(alice)
    extend = reverse("backoffice:rights_extend", args=[request.pk])
    data = {"prolongation-months": "2", "prolongation-reason": "Demande complexe : 12 contrats"}
    with time_machine.travel(at(2026, 2, 20, 9), tick=False):
        response = client.post(extend, data)
    assert response.status_code == 400
    assert "La prolongation doit être notifiée dans le mois" in visible_text(response)
    assert "au plus tard le 10/02/2026" in visible_text(response)
    request.refresh_from_db()
    assert request.extended_months == 0 and request.due_date == datetime.date(2026, 2, 10)


def test_an_extension_within_the_first_month_is_notified(client, bob, alice, mailoutbox):
    login_verified(client, bob)
    with time_machine.travel(at(2026, 1, 10, 9), tick=False):
        request = for_alice(alice)
    extend = reverse("backoffice:rights_extend", args=[request.pk])
    data = {"prolongation-months": "2", "prolongation-reason": "Demande complexe : 12 contrats"}
    with time_machine.travel(at(2026, 2, 1, 9), tick=False):
        response = client.post(extend, data, follow=True)
    assert "réponse due au plus tard le 10/04/2026" in visible_text(response)
    request.refresh_from_db()
    assert request.extended_months == 2 and request.due_date == datetime.date(2026, 4, 10)


# --- Handling ----------------------------------------------------------------------------------
def test_processing_an_access_request_answers_it_and_the_copy_downloads(
    client, bob, alice, django_capture_on_commit_callbacks
):
    login_verified(client, bob, reauthenticated=True)  # the copy is an export
    request = for_alice(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:rights_process", args=[request.pk]), follow=True)
    request.refresh_from_db()
    assert request.status == Status.ANSWERED and "CNIL" in request.answer_text
    text = visible_text(response)
    assert "Réponse envoyée" in text and "Télécharger la copie (JSON)" in text
    assert_no_full_nir_or_iban(response, alice)

    download = client.post(reverse("backoffice:rights_export", args=[request.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert "attachment" in download["Content-Disposition"]
    assert alice.person.nir in download.content.decode()
    json.loads(download.content)
    assert request.events.filter(action=RequestEvent.Action.DOWNLOAD).exists()
    assert Event.objects.filter(tag="rights:export:download", actor=f"user:{bob.pk}").exists()


def test_a_rectification_is_applied_by_the_dpo(client, bob, alice):
    login_verified(client, bob)
    new_nir = make_nir(civility="MME", birth_date=alice.person.birth_date)
    response = client.post(
        reverse("backoffice:rights_register"),
        register_data(
            kind=Kind.RECTIFICATION,
            person_ref=alice.number,
            identity="document",
            rect_last_name="Martin-Durand",
            rect_nir=new_nir,
        ),
    )
    request = RightsRequest.objects.get()
    assert response.url == page_of(request)
    assert new_nir not in json.dumps(request.details)
    page = client.get(page_of(request))
    assert new_nir not in page_text(page) and format_nir(new_nir) not in page_text(page)
    assert "Martin-Durand" in page_text(page)
    assert_no_full_nir_or_iban(page, alice)

    response = client.post(
        reverse("backoffice:rights_rectify", args=[request.pk]),
        {
            "rectification-last_name": "Martin-Durand",
            "rectification-use_nir": "on",
        },
        follow=True,
    )
    assert "Rectification appliquée" in visible_text(response)
    person = Person.objects.get(pk=alice.person_id)
    assert person.last_name == "Martin-Durand" and person.nir == new_nir
    request.refresh_from_db()
    assert request.status == Status.ANSWERED


def test_a_rectification_with_a_bad_value_is_refused_in_french(client, bob, alice):
    login_verified(client, bob)
    request = for_alice(alice, Kind.RECTIFICATION, details={"changes": {"city": "Lyon"}})
    response = client.post(
        reverse("backoffice:rights_rectify", args=[request.pk]),
        {"rectification-postal_code": "75A", "rectification-city": "Lyon"},
    )
    assert response.status_code == 400
    assert "code postal" in visible_text(response).lower()
    assert Person.objects.get(pk=alice.person_id).city != "Lyon"


@pytest.mark.parametrize("decision", ["upheld", "rejected"])
def test_an_objection_is_decided(client, bob, alice, decision):
    login_verified(client, bob)
    request = for_alice(
        alice, Kind.OBJECTION, details={"purposes": ["inquiries"], "grounds": "Situation"}
    )
    client.post(reverse("backoffice:rights_process", args=[request.pk]))
    page = visible_text(client.get(page_of(request)))
    assert "Décider de l'opposition" in page and "À décider par le délégué" in page
    response = client.post(
        reverse("backoffice:rights_objection", args=[request.pk]),
        {"opposition-decision": decision, "opposition-grounds": GROUNDS},
        follow=True,
    )
    request.refresh_from_db()
    restricted = restrictions.is_restricted(alice.person, "inquiries")
    if decision == "upheld":
        assert request.status == Status.ANSWERED and restricted
        assert "Opposition admise" in visible_text(response)
    else:
        assert request.status == Status.REFUSED and not restricted
        assert GROUNDS in request.refusal_reasons
    # Answered or refused, it may now be closed.
    client.post(reverse("backoffice:rights_close", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_answer_and_refusal_need_their_reasons(client, bob, alice):
    login_verified(client, bob)
    request = for_alice(alice, Kind.OBJECTION, details={"purposes": ["inquiries"]})
    partial = client.post(
        reverse("backoffice:rights_answer", args=[request.pk]),
        {"reponse-outcome": "partial", "reponse-text": "En partie."},
    )
    assert partial.status_code == 400
    assert "Indiquez pourquoi une partie de la demande" in visible_text(partial)
    refusal = client.post(
        reverse("backoffice:rights_refuse", args=[request.pk]), {"refus-reasons": "Non."}
    )
    assert refusal.status_code == 400 and "Indiquez les motifs du refus" in visible_text(refusal)
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


# --- Restrictions, the member page's banner, deaths -------------------------------------------
def test_the_member_page_shows_a_restriction_banner_and_the_dpo_override_allows_a_reveal(
    client, as_staff, alice, bob, gina
):
    restriction = restrictions.start(
        subject=alice.person,
        purpose="*",
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    member_page = reverse("backoffice:member_detail", args=[alice.pk])
    gina_client = as_staff(gina)
    text = visible_text(gina_client.get(member_page))
    assert "Traitement limité (RGPD art. 18)" in text
    assert "Alice Martin" in text.split("Traitement limité")[1][:400]
    nir_url = reverse("backoffice:reveal_nir", args=[alice.pk, alice.person_id])
    refused = gina_client.post(nir_url, {"reason": "Demande de la caisse"})
    assert "seule leur conservation est permise" in visible_text(refused)

    # gina's service may not grant an exception.
    override = reverse("backoffice:rights_restriction_override", args=[restriction.pk])
    data = {
        f"r{restriction.pk}-exception-use": "members:nir:reveal",
        f"r{restriction.pk}-exception-reason": "Contentieux devant le tribunal judiciaire",
    }
    assert gina_client.post(override, data).status_code == 403
    login_verified(client, bob)
    response = client.post(override, data, follow=True)
    assert "Exception enregistrée" in visible_text(response)
    assert "Contentieux devant le tribunal judiciaire" in visible_text(response)
    revealed = gina_client.post(nir_url, {"reason": "Demande de la caisse"})
    assert format_nir(alice.person.nir) in page_text(revealed)
    assert Event.objects.filter(tag="privacy:restriction:override_use").exists()


def test_a_restriction_is_lifted_only_after_the_notice(
    client, bob, alice, django_capture_on_commit_callbacks
):
    restriction = restrictions.start(
        subject=alice.person,
        purpose="*",
        ground=RestrictionGround.RESTRICTION,
        reason="Exactitude contestée",
    )
    login_verified(client, bob)
    person_page = reverse("backoffice:rights_person", args=[alice.person_id])
    text = visible_text(client.get(person_page))
    assert "pas encore envoyé (obligatoire avant la levée)" in text
    assert "Lever la limitation" not in text
    lift = reverse("backoffice:rights_restriction_lift", args=[restriction.pk])
    response = client.post(lift, follow=True)
    assert "La personne doit être informée avant la levée" in visible_text(response)
    assert Restriction.objects.get().is_active

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("backoffice:rights_restriction_notice", args=[restriction.pk]),
            {f"r{restriction.pk}-avis-reason": "Vérification de l'exactitude terminée"},
        )
    [notice] = mail.outbox
    assert notice.to == [alice.person.email]
    response = client.post(lift, follow=True)
    assert "Limitation levée" in visible_text(response)
    assert not Restriction.objects.get().is_active
    assert "Traitement limité" not in visible_text(
        client.get(reverse("backoffice:member_detail", args=[alice.pk]))
    )


def test_recording_a_death_emails_the_designated_person(
    client, bob, alice, django_capture_on_commit_callbacks
):
    post_mortem.record_directive(
        person=alice.person,
        scope="specific",
        instructions="Effacer mes données et prévenir ma sœur.",
        designated_name="Claire Martin",
        designated_email="claire@example.org",
    )
    login_verified(client, bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("backoffice:rights_death", args=[alice.person_id]),
            {
                "deces-date_of_death": "2026-01-02",
                "deces-proof_type": "certificate",
                "deces-confirm": "on",
            },
            follow=True,
        )
    text = visible_text(response)
    assert "Décès enregistré" in text and "Claire Martin" in text
    assert "Décès survenu le 02/01/2026" in text
    [letter] = [m for m in mail.outbox if m.to == ["claire@example.org"]]
    assert "prévenir ma sœur" in letter.body and "Alice Martin" in letter.body
    assert PostMortemDirective.objects.get().applied_at is not None
    assert not User.objects.get(pk=alice.account_id).is_active


# --- The dashboard -----------------------------------------------------------------------------
def test_the_dashboard_lists_open_requests_by_days_left_and_flags_the_overdue(client, bob, alice):
    with time_machine.travel(at(2026, 1, 5, 9), tick=False):
        overdue = by_letter(requester_name="Ancien Adhérent")
    with time_machine.travel(at(2026, 2, 20, 9), tick=False):
        later = for_alice(alice, Kind.PORTABILITY)
    with time_machine.travel(at(2026, 2, 10, 9), tick=False):
        sooner = by_letter(kind=Kind.ERASURE, requester_name="Visiteur Prudent")
        done = by_letter(kind=Kind.RECTIFICATION, requester_name="Déjà Répondu")
        services.refuse(request=done, reasons="Identité non établie après relance.", actor=bob)
    login_verified(client, bob)
    with time_machine.travel(at(2026, 3, 1, 9), tick=False):
        response = client.get(reverse("backoffice:rights_dashboard"))
    body = page_text(response)
    table = body.split("<tbody>")[1].split("</tbody>")[0]
    order = [m for m in re.findall(r"DR\d\d-[0-9A-F]{8}", table)]
    assert order == [overdue.reference, sooner.reference, later.reference]
    assert done.reference not in table
    rows = table.split("<tr")
    late_row = next(r for r in rows if overdue.reference in r)
    assert (
        'class="late"' in late_row and "en retard" in late_row and "dépassé de 24 jours" in late_row
    )
    soon_row = next(r for r in rows if sooner.reference in r)
    assert "late" not in soon_row and "9 jours" in soon_row
    assert f'href="{page_of(overdue)}"' in late_row
    assert_no_full_nir_or_iban(response, alice)


def test_the_charts_are_inline_svg_with_the_same_numbers_in_a_table(client, bob, alice):
    with time_machine.travel(at(2025, 5, 20, 9), tick=False):
        by_letter(requester_name="Trop Ancien")  # more than twelve months ago: not counted
    with time_machine.travel(at(2026, 4, 3, 9), tick=False):
        on_time = for_alice(alice, Kind.MARKETING_OBJECTION)
        by_letter(requester_name="Avril Un")
        by_letter(requester_name="Avril Deux", requester_email="deux@example.org")
    with time_machine.travel(at(2026, 4, 13, 9), tick=False):
        processing.process(request=on_time, actor=bob)  # answered in 10 days
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        late = by_letter(kind=Kind.ERASURE, requester_name="Juin", requester_email="j@example.org")
    with time_machine.travel(at(2026, 7, 10, 9), tick=False):
        services.refuse(request=late, reasons="Identité non établie après relance.", actor=bob)
    login_verified(client, bob)
    with time_machine.travel(at(2026, 7, 15, 9), tick=False):
        response = client.get(reverse("backoffice:rights_dashboard"))
    body = page_text(response)
    assert "style=" not in body
    svgs = re.findall(r"<svg[^>]*role=\"img\"[^>]*>.*?</svg>", body, flags=re.S)
    assert len(svgs) == 2
    months, times = svgs
    assert "<title" in months and "aria-labelledby" in months
    assert "avril 2026 — Accès aux données : 2" in months
    assert "juin 2026 — Effacement : 1" in months
    assert ",5" not in months  # coordinates are never localised

    # The table gives the same numbers: months as rows, kinds as columns.
    table = body.split('id="tableau-mois"')[1].split("</table>")[0]
    header = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert header == [
        "Mois",
        "Accès aux données",
        "Effacement",
        "Opposition à la prospection",
        "Total",
    ]
    rows = {
        row[0]: row[1:]
        for row in (re.findall(r">([^<>]+)</t[hd]>", r) for r in table.split("<tr>")[2:])
    }
    assert rows["avril 2026"] == ["2", "0", "1", "3"]
    assert rows["juin 2026"] == ["0", "1", "0", "1"]
    assert rows["juillet 2026"] == ["0", "0", "0", "0"]
    assert "août 2025" in rows and "juillet 2025" not in rows and "mai 2025" not in rows
    assert rows["Total"] == ["2", "1", "1", "4"]

    times_table = body.split('id="tableau-delais"')[1].split("</table>")[0]
    lines = {
        row[0]: row[1:]
        for row in (re.findall(r">([^<>]+)</t[hd]>", r) for r in times_table.split("<tr>")[2:])
    }
    # April: one answer in 10 days, due in 30; July: one refusal after its deadline (1 July).
    assert lines["avril 2026"] == ["1", "1", "0", "10", "30", "10"]
    assert lines["juillet 2026"] == ["1", "0", "1", "39", "30", "39"]
    assert "juillet 2026 — 1 réponse, dont 1 en retard" in times


# --- Garbage in, French out -------------------------------------------------------------------
def test_garbage_input_gets_french_errors_and_never_a_server_error(client, bob, alice):
    login_verified(client, bob)
    nir = alice.person.nir
    response = client.post(
        reverse("backoffice:rights_register"),
        {
            "kind": "<script>",
            "channel": "pigeon",
            "received_on": "31/02/2026",
            "person_ref": nir,
            "requester_email": "pas-une-adresse",
            "requester_capacity": "self",
            "identity": "other",
            "summary": "x" * 5000,
            "rect_nir": nir,
        },
    )
    assert response.status_code == 400
    text = visible_text(response)
    assert "Choisissez une valeur de la liste." in text
    assert "Saisissez une date valide" in text
    assert "ni numéro de sécurité sociale ni IBAN" in text
    assert "Saisissez une adresse électronique valide." in text
    assert "Précisez comment l'identité a été vérifiée." in text
    assert "<script>" not in page_text(response).split("<main")[1].replace("&lt;script&gt;", "")
    assert_no_full_nir_or_iban(response, alice)

    future = client.post(
        reverse("backoffice:rights_register"),
        register_data(received_on="2999-01-01", requester_name="X", requester_email="x@x.org"),
    )
    assert future.status_code == 400
    assert "ne peut pas être dans le futur" in visible_text(future)

    note_with_nir = client.post(
        reverse("backoffice:rights_register"),
        register_data(person_ref=alice.number, summary=f"Son numéro : {nir}"),
    )
    assert note_with_nir.status_code == 400 and "N'y recopiez ni numéro" in visible_text(
        note_with_nir
    )
    assert_no_full_nir_or_iban(note_with_nir, alice)
    assert RightsRequest.objects.count() == 0

    request = for_alice(alice)
    bad_extend = client.post(
        reverse("backoffice:rights_extend", args=[request.pk]),
        {"prolongation-months": "7", "prolongation-reason": ""},
    )
    assert bad_extend.status_code == 400
    assert "Une prolongation est d'un ou deux mois." in visible_text(bad_extend)
    death = client.post(
        reverse("backoffice:rights_death", args=[alice.person_id]),
        {"deces-date_of_death": "2999-12-31", "deces-proof_type": "rumour"},
    )
    assert death.status_code == 400
    text = visible_text(death)
    assert "ne peut pas être dans le futur" in text and "Cochez la case pour confirmer." in text
    assert client.get("/gestion/droits/demandes/pas-un-uuid/").status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/gestion/droits/demandes/{unknown}/").status_code == 404
    assert client.post("/gestion/droits/limitations/999999/lever/").status_code == 404
    assert client.get(reverse("backoffice:rights_dashboard"), {"page": "zzz"}).status_code == 200


def test_no_page_shows_a_full_nir_or_iban(client, bob, alice):
    restrictions.start(
        subject=alice.person, purpose="*", ground=RestrictionGround.RESTRICTION, reason="Test"
    )
    request = for_alice(alice)
    processing.process(request=request, actor=bob)
    login_verified(client, bob)
    for url in (
        reverse("backoffice:rights_dashboard"),
        page_of(request),
        reverse("backoffice:rights_person", args=[alice.person_id]),
        reverse("backoffice:member_detail", args=[alice.pk]),
        reverse("backoffice:home"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_full_nir_or_iban(response, alice)


def test_the_home_page_links_to_the_rights_pages(client, bob, charlie, staff):
    login_verified(client, bob)
    body = page_text(client.get(reverse("backoffice:home")))
    assert reverse("backoffice:rights_dashboard") in body
    assert reverse("backoffice:rights_register") in body
    login_verified(client, charlie)
    body = page_text(client.get(reverse("backoffice:home")))
    assert f'href="{reverse("backoffice:rights_dashboard")}"' not in body
    assert reverse("backoffice:rights_register") in body
    login_verified(client, staff("admin"))
    assert "/gestion/droits/" not in page_text(client.get(reverse("backoffice:home")))


def test_every_rights_page_has_its_permission_test():
    """A new rights page of the back office must be added to ``VIEWS``."""
    from mutualis.backoffice.rights import urls as urls_rights

    assert {p.name for p in urls_rights.urlpatterns} == {v.name for v in VIEWS}
