"""« Mes cotisations »: the schedule, the next debit, payments and rejections, the balance, the
unpaid-premium letters, the payment certificate as PDF — the member's own only."""

import datetime
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from mutualis.audit.models import Event
from mutualis.billing import dunning
from mutualis.billing.models import DunningLetter, LedgerKind
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.testing import batch_on, cycle_on, on, pain002, subscribed_on
from mutualis.members.models import Person

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)
JAN = datetime.date(2027, 1, 5)
LATER = datetime.date(2027, 1, 12)


@pytest.fixture
def history(tmp_path):
    """Alice's first debit rejected, the formal notice sent; Dave's went through."""
    alice = subscribed_on(START, first_names="Alice", email="alice@example.org", seed=1)
    dave = subscribed_on(START, first_names="Dave", email="dave@example.org", seed=2, children=0)
    cycle_on(START)
    batch = batch_on(JAN, tmp_path).batch
    cycle_on(JAN)
    with on(datetime.date(2027, 1, 7)):
        import_bytes(pain002(batch, [(alice.member.debits.get(), "AM04")]), file_name="r.xml")
    cycle_on(datetime.date(2027, 1, 7))
    return alice.member, dave.member


def _get(client, member, url, day=LATER):
    with on(day):
        client.force_login(member.account)
        return client.get(url)


def test_the_page_shows_schedule_next_debit_balance_rejection_and_the_notice(client, history):
    alice, _ = history
    response = _get(client, alice, "/espace/cotisations/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mes cotisations" in body and "Échéancier 2027" in body
    assert "prélèvement rejeté" in body  # December and January, in the January debit
    assert "Prélèvement du 05/01/2027 rejeté (provision insuffisante)" in body
    assert "restant dus" in body
    assert "Cotisation impayée" in body and "Mise en demeure" in body
    assert "vendredi 5 février 2027" in body  # the next debit, announced in the schedule
    letter = DunningLetter.objects.get(case__contract__member=alice)
    assert f"/espace/cotisations/lettres/{letter.pk}/" in body
    # Another year on request; a year that makes no sense is ignored, not an error.
    assert (
        "Échéancier 2026" in _get(client, alice, "/espace/cotisations/?annee=2026").content.decode()
    )
    assert _get(client, alice, "/espace/cotisations/?annee=<x>").status_code == 200


def test_the_dashboard_tells_a_suspended_cover(client, history):
    alice, _ = history
    cycle_on(datetime.date(2027, 2, 6))  # thirty days after the notice
    body = _get(client, alice, "/espace/", day=datetime.date(2027, 2, 6)).content.decode()
    assert "Garanties suspendues (cotisation impayée)" in body
    assert "Il reste" in body


def test_the_letter_reads_as_a_page_and_as_pdf_for_its_member_only(client, history):
    alice, dave = history
    letter = DunningLetter.objects.get(case__contract__member=alice)
    url = f"/espace/cotisations/lettres/{letter.pk}/"
    page = _get(client, alice, url).content.decode()
    assert "Mise en demeure" in page and "L221-7" in page
    pdf = _get(client, alice, url + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "Mise en demeure" in text and alice.number in text
    client.logout()
    assert _get(client, dave, url).status_code == 404


def test_the_yearly_certificate_is_a_pdf_of_what_was_paid(client, history):
    alice, _ = history
    with on(LATER):
        dunning.record_payment(
            member=alice,
            kind=LedgerKind.TRANSFER,
            amount=Decimal("50.00"),
            paid_on=datetime.date(2027, 1, 11),
            reference="VIR-1",
            actor=None,
        )
    response = _get(client, alice, "/espace/cotisations/attestation/?annee=2027")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Attestation de paiement des cotisations 2027" in text
    assert f"adhérent n° {alice.number}" in text
    # The rejected debit is taken back: only the transfer counts.
    assert "montant total de 50,00 €" in text
    assert Event.objects.filter(tag="billing:certificate:issue", subject_id=str(alice.person_id))
    # A year without any payment has no certificate.
    assert _get(client, alice, "/espace/cotisations/attestation/?annee=2019").status_code == 404


def test_a_refused_e_mail_is_told_with_the_way_to_correct_the_address(client, history):
    """The mail server refused Dave's notice e-mail (``billing.prenotify``): his page says so,
    that the notice goes by post, and where to correct the address; Alice's says nothing."""
    alice, dave = history
    refused = datetime.datetime(2027, 1, 10, 2, tzinfo=datetime.UTC)
    notices = dave.prenotifications.filter(collection_date__gt=LATER)
    notices.update(emailed_at=None, email_refused_at=refused)
    body = " ".join(_get(client, dave, "/espace/cotisations/").content.decode().split())
    assert (
        "Notre courriel d'avis du 10 janvier 2027 n'a pas pu vous être remis : l'adresse "
        "électronique à laquelle nous vous l'avons écrit a été refusée par sa messagerie, ou "
        "n'est pas valide." in body
    )
    assert "dave@example.org" not in body.split("Prélèvements annoncés")[1], (
        "the address it went to may have been corrected since: not named"
    )
    assert 'href="/espace/coordonnees/"' in body
    assert "L'avis vous est envoyé par courrier." in body
    Person.objects.filter(pk=dave.person_id).update(
        address_line1="", address_line2="", postal_code="", city=""
    )
    body = " ".join(_get(client, dave, "/espace/cotisations/").content.decode().split())
    assert "envoyé par courrier" not in body
    assert "Nous n'avons pas d'adresse postale pour vous l'envoyer par courrier." in body
    told = "pas pu vous être remis"
    assert told not in _get(client, alice, "/espace/cotisations/").content.decode()
    notices.update(posted_at=refused)  # posted since: nothing left to tell
    assert told not in _get(client, dave, "/espace/cotisations/").content.decode()
