"""The cotisations service's pages: the unpaid queue, a member's account and its actions, the
batches and their file, the bank returns and their import — each refused to whom the role table
does not grant it, every bad input answered in French with nothing written."""

import datetime
import io
import re

import pytest
from django.db.models import F
from pypdf import PdfReader

from mutualis.audit.models import Event
from mutualis.backoffice.testing import page_text, visible_text
from mutualis.billing.models import (
    DebitReturn,
    DunningCase,
    DunningStage,
    LedgerEntry,
    LedgerKind,
    PreNotification,
    ReturnStatus,
)
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.testing import batch_on, cycle_on, on, pain002, subscribed_on

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)
JAN = datetime.date(2027, 1, 5)
TODAY = datetime.date(2027, 1, 12)


@pytest.fixture
def history(tmp_path, settings):
    settings.MUTUALIS_SEPA_OUT_DIR = str(tmp_path)
    contract = subscribed_on(START)
    cycle_on(START)
    batch = batch_on(JAN, tmp_path).batch
    cycle_on(JAN)
    with on(datetime.date(2027, 1, 7)):
        import_bytes(pain002(batch, [(contract.member.debits.get(), "AM04")]), file_name="r.xml")
    cycle_on(datetime.date(2027, 1, 7))
    return {"member": contract.member, "batch": batch, "case": DunningCase.objects.get()}


def _client(as_staff, user, **kwargs):
    with on(TODAY):
        return as_staff(user, **kwargs)


def _get(client, url):
    with on(TODAY):
        return client.get(url)


def _post(client, url, data=None, **kwargs):
    with on(TODAY):
        return client.post(url, data or {}, **kwargs)


def test_the_queue_and_the_account_show_the_case_to_the_cotisations_service(
    history, as_staff, colin
):
    client = _client(as_staff, colin)
    body = _get(client, "/gestion/cotisations/").content.decode()
    assert "Impayés en cours" in body and history["member"].number in body
    account = _get(client, f"/gestion/cotisations/adherents/{history['member'].pk}/").content
    text = account.decode()
    assert "Mise en demeure envoyée" in text or "mise en demeure" in text
    assert "rejeté (provision insuffisante)" in text
    assert "Enregistrer un paiement" in text


def test_services_without_the_permission_are_refused_and_the_dpo_only_reads(
    history, as_staff, gina, bob
):
    url = f"/gestion/cotisations/adherents/{history['member'].pk}/"
    assert _get(_client(as_staff, gina), url).status_code == 403
    dpo = _client(as_staff, bob)
    page = _get(dpo, url)
    assert page.status_code == 200 and "Enregistrer un paiement" not in page.content.decode()
    refused = _post(dpo, url + "paiement/", {"kind": "cheque", "amount": "10"})
    assert refused.status_code == 403
    assert not LedgerEntry.objects.filter(kind=LedgerKind.CHEQUE).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "cheque", "amount": "-5", "paid_on": "2027-01-11"}, "doit être positif"),
        ({"kind": "cheque", "amount": "abc", "paid_on": "2027-01-11"}, "Saisissez un montant"),
        ({"kind": "cheque", "amount": "1e400", "paid_on": "2027-01-11"}, "montant"),
        ({"kind": "cheque", "amount": "10", "paid_on": "2027-02-30"}, "date valide"),
        ({"kind": "cheque", "amount": "10", "paid_on": "2027-03-01"}, "futur"),
        ({"kind": "debit", "amount": "10", "paid_on": "2027-01-11"}, "Sélectionnez un choix"),
        ({"kind": "cheque", "amount": "10.123", "paid_on": "2027-01-11"}, "Deux chiffres"),
    ],
)
def test_a_bad_payment_is_refused_in_french_and_nothing_is_booked(
    history, as_staff, colin, data, message
):
    client = _client(as_staff, colin)
    url = f"/gestion/cotisations/adherents/{history['member'].pk}/"
    response = _post(client, url + "paiement/", data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.filter(kind__in=[LedgerKind.CHEQUE, LedgerKind.TRANSFER])


def test_a_cheque_for_the_whole_amount_settles_the_case(history, as_staff, colin):
    client = _client(as_staff, colin)
    case = history["case"]
    url = f"/gestion/cotisations/adherents/{history['member'].pk}/paiement/"
    amount = f"{case.amount}".replace(".", ",")
    data = {"kind": "cheque", "amount": amount, "paid_on": "2027-01-11", "reference": "CHQ 42"}
    response = _post(client, url, data, follow=True)
    assert "Paiement de" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == DunningStage.SETTLED and case.settled_on == datetime.date(2027, 1, 11)
    entry = LedgerEntry.objects.get(kind=LedgerKind.CHEQUE)
    assert entry.amount == -case.amount and entry.created_by == colin.display_name


def test_termination_needs_the_box_ticked_and_the_law_s_delay(history, as_staff, colin):
    client = _client(as_staff, colin)
    url = f"/gestion/cotisations/impayes/{history['case'].pk}/resiliation/"
    body = _post(client, url, {}, follow=True).content.decode()
    assert "Cochez la case" in body
    body = _post(client, url, {"confirm": "on"}, follow=True).content.decode()
    assert "Seul un contrat dont les garanties sont suspendues" in body
    assert DunningCase.objects.get().stage == DunningStage.NOTICE


def test_a_plan_is_granted_with_valid_values_only(history, as_staff, colin):
    client = _client(as_staff, colin)
    url = f"/gestion/cotisations/impayes/{history['case'].pk}/echeancier/"
    body = _post(client, url, {"instalment_count": "40", "first_date": "2027-01-20"}, follow=True)
    assert "Douze échéances au plus" in body.content.decode()
    body = _post(client, url, {"instalment_count": "3", "first_date": "2027-01-20"}, follow=True)
    assert "Échéancier accordé" in body.content.decode()
    assert history["case"].plans.count() == 1


def test_the_batch_file_asks_for_a_new_authentication_and_is_audited(history, as_staff, colin):
    url = f"/gestion/cotisations/remises/{history['batch'].pk}/fichier/"
    stale = _client(as_staff, colin, reauthenticated=False)
    challenged = _get(stale, url)
    assert challenged.status_code in (200, 302) and b"<Document" not in challenged.getvalue()
    fresh = _client(as_staff, colin)
    response = _get(fresh, url)
    assert response.status_code == 200
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.008.001.08" in response.getvalue()
    assert Event.objects.filter(tag="billing:batch:download").count() == 1


def test_importing_returns_from_the_page(history, as_staff, colin, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(as_staff, colin)
    bad = SimpleUploadedFile("banque.xml", b"<pas du xml", content_type="text/xml")
    body = _post(client, "/gestion/cotisations/retours/", {"file": bad}).content.decode()
    assert "bien formé" in body and "Rien n&#x27;a été importé" in body
    returned = DebitReturn.objects.get()
    assert returned.status == ReturnStatus.OPEN
    url = f"/gestion/cotisations/retours/{returned.pk}/traite/"
    _post(client, url, {"note": "Adhérent joint par téléphone"})
    returned.refresh_from_db()
    assert returned.status == ReturnStatus.HANDLED and "téléphone" in returned.note
    assert Event.objects.filter(tag="billing:return:handle").count() == 1
    page = _get(client, "/gestion/cotisations/retours/?etat=all").content.decode()
    assert "traité par" in page
    # The same rejection, in a report of a version whose schema is not shipped: known already,
    # and the page says how the file was checked.
    debit = history["member"].debits.get()
    again = pain002(history["batch"], [(debit, "AM04")], message="STS-2", version="pain.002.001.10")
    upload = SimpleUploadedFile("banque-2.xml", again, content_type="text/xml")
    done = page_text(_post(client, "/gestion/cotisations/retours/", {"file": upload}, follow=True))
    assert (
        "0 retour enregistré, à traiter ci-dessous. Fichier version pain.002.001.10 : lue sans "
        "contrôle par son schéma officiel, non fourni." in done
    )


# --- Notices posted to members without an e-mail address -------------------------------------
@pytest.fixture
def paul():
    """A member without an e-mail address (as the legacy import may leave one), announced."""
    contract = subscribed_on(START, first_names="Paul", email="paul@example.org", seed=2)
    person = contract.member.person
    person.email = ""
    person.save(update_fields=["email"])
    cycle_on(START)
    return contract.member


NOTICES = "/gestion/cotisations/avis-par-courrier/"


def test_the_cotisations_service_prints_the_notices_to_post_in_runs(paul, as_staff, colin):
    # Notices made at an instant with microseconds, as on a running server.
    PreNotification.objects.filter(member=paul).update(
        created_at=F("created_at") + datetime.timedelta(microseconds=123456)
    )
    client = _client(as_staff, colin)
    assert "Avis de prélèvement à poster : 1" in visible_text(_get(client, "/gestion/cotisations/"))
    page = page_text(_get(client, NOTICES))
    assert paul.number in page and "Préparer un tirage" in page
    # The first letter announces 5 February: a notice counts from its posting, 14 days before.
    shown = visible_text(_get(client, NOTICES))
    assert "À poster au plus tard" in shown and "le 22/01/2027 : dans 10 jours" in shown
    made_until = re.search(r'name="made_until" value="([^"]+)"', page).group(1)
    done = page_text(_post(client, NOTICES, {"made_until": made_until}, follow=True))
    assert "Tirage préparé : 1 courrier" in done and "Aucun avis à poster." in done
    (run,) = set(
        PreNotification.objects.filter(member=paul, collection_date__gte=TODAY).values_list(
            "print_run", flat=True
        )
    )
    assert f"{NOTICES}{run}/" in done
    assert run is not None  # every notice of a debit still to come is in the run

    stale = _client(as_staff, colin, reauthenticated=False)
    challenged = _get(stale, f"{NOTICES}{run}/")
    assert challenged.status_code in (200, 302) and not challenged.getvalue().startswith(b"%PDF")
    pdf = _get(client, f"{NOTICES}{run}/")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.getvalue())).pages)
    assert f"{paul.person.first_names} {paul.person.last_name}" in text
    (event,) = Event.objects.filter(tag="billing:prenotification:print")
    assert event.subject_id == str(paul.person_id) and event.details == {"run": str(run)}
    again = visible_text(_post(client, NOTICES, {"made_until": made_until}, follow=True))
    assert "Aucun avis à poster : ils l'ont déjà été." in again
    account = visible_text(_get(client, f"/gestion/cotisations/adherents/{paul.pk}/"))
    assert "remis au courrier le 12/01/2027" in account


@pytest.mark.parametrize("made_until", ["", "demain", "2027-13-45 10:00", "x" * 5000])
def test_a_bad_print_request_is_refused_in_french_and_nothing_is_posted(
    paul, as_staff, colin, made_until
):
    client = _client(as_staff, colin)
    response = _post(client, NOTICES, {"made_until": made_until}, follow=True)
    assert "Demande de tirage invalide : rechargez la page." in visible_text(response)
    assert not PreNotification.objects.filter(posted_at__isnull=False).exists()


def test_a_letter_not_posted_in_time_is_said_so_and_its_next_date_waits(paul, as_staff, colin):
    with on(datetime.date(2027, 1, 25)):
        client = as_staff(colin)
        page = visible_text(client.get(NOTICES))
        account = visible_text(client.get(f"/gestion/cotisations/adherents/{paul.pk}/"))
    # 5 February can no longer be announced in time (its last day was 22 January); 5 March can.
    assert "05/02/2027" not in page and "05/03/2027" in page
    assert "le 19/02/2027 : dans 25 jours" in page
    assert "pas envoyé à temps : il ne compte pas pour le prélèvement de cette date" in account
    # The daily run of that day announces February's premium with March's: the schedule's
    # notice of 5 March, never sent, is replaced.
    cycle_on(datetime.date(2027, 1, 25))
    with on(datetime.date(2027, 1, 25)):
        account = visible_text(client.get(f"/gestion/cotisations/adherents/{paul.pk}/"))
    assert "remplacé par un avis plus récent avant d'être envoyé" in account
    with on(datetime.date(2027, 1, 25)):
        queue = visible_text(client.get("/gestion/cotisations/"))
    assert "Avis de prélèvement à poster : 1" in queue and "à poster d'ici" not in queue
    with on(datetime.date(2027, 2, 17)):
        queue = visible_text(as_staff(colin).get("/gestion/cotisations/"))
    # The letter of 5 March is to be posted by 19 February.
    assert "Avis de prélèvement à poster : 1, dont 1 à poster d'ici 3 jours" in queue


def test_the_dpo_sees_the_notices_to_post_but_prints_none(paul, as_staff, bob, gina):
    dpo = _client(as_staff, bob)
    page = _get(dpo, NOTICES)
    assert page.status_code == 200 and paul.number in visible_text(page)
    assert "Préparer un tirage" not in visible_text(page)
    refused = _post(dpo, NOTICES, {"made_until": "2027-01-12 10:00"})
    assert refused.status_code == 403
    assert not PreNotification.objects.filter(posted_at__isnull=False).exists()
    assert _get(_client(as_staff, gina), NOTICES).status_code == 403


def test_a_notice_whose_e_mail_was_refused_is_to_post_and_says_why(as_staff, colin):
    """The mail server refused Zoé's e-mail for good (``billing.prenotify``): her letter is
    in the queue to post, with the refusal's day, and her account says it."""
    zoe = subscribed_on(START, first_names="Zoé", email="zoe@example.org", seed=3).member
    cycle_on(START)
    refused = datetime.datetime(2026, 12, 2, 9, tzinfo=datetime.UTC)
    PreNotification.objects.filter(member=zoe).update(emailed_at=None, email_refused_at=refused)
    client = _client(as_staff, colin)
    page = visible_text(_get(client, NOTICES))
    assert zoe.number in page and "courriel refusé le 02/12/2026" in page
    account = visible_text(_get(client, f"/gestion/cotisations/adherents/{zoe.pk}/"))
    assert "courriel refusé par le serveur de messagerie le 02/12/2026 : à poster" in account
    assert "Avis de prélèvement à poster : 1" in visible_text(_get(client, "/gestion/cotisations/"))
