"""Staff of the gestion service change who a contract covers from the member record: a new
beneficiary is checked by the subscription's rules and written in one transaction with the
premium schedule recomputed; a beneficiary is withdrawn once the removal is confirmed. Other
services are refused, bad input is answered in French with nothing written, and the NIR typed
never comes back: not in the page, not in a log, not in the audit log."""

from __future__ import annotations

import datetime
import json
import logging
import random
from decimal import Decimal

import pytest
from django.urls import reverse

from mutualis.audit.models import Event
from mutualis.backoffice.members.forms import NUL_REFUSED
from mutualis.backoffice.members.reveal import format_nir
from mutualis.backoffice.testing import page_text, visible_text
from mutualis.billing import dunning, schedule
from mutualis.billing import services as billing
from mutualis.billing.models import DunningCase, Instalment
from mutualis.billing.returns.apply import import_bytes
from mutualis.billing.schedule import build_schedule, post_due_premiums
from mutualis.billing.tags import BillingTag
from mutualis.billing.testing import batch_on, cycle_on, on, pain002, subscribed_on
from mutualis.members.models import Beneficiary, BeneficiaryRole, Person
from mutualis.members.tags import MembersTag
from mutualis.members.testing import make_nir
from mutualis.members.validators import CIVILITY_FEMALE, CIVILITY_MALE, mask_nir

pytestmark = pytest.mark.django_db

START = datetime.date(2027, 1, 4)  # the contract's first day
TODAY = datetime.date(2027, 3, 10)  # January to March are posted; April to December are not
LAST_MONTH = datetime.date(2027, 12, 1)
SPOUSE_BIRTH = datetime.date(1983, 9, 2)
# The "confort" offer's rates (contracts.testing.OFFERS).
CHILD_RATE = Decimal("26.00")  # 0 to 19 years
ADULT_RATE = Decimal("64.00")  # 40 to 59 years


@pytest.fixture
def contract():
    """Alice's contract (Alice and a child attached to her NIR), with its schedule built to
    December and the months due by ``TODAY`` posted to her ledger."""
    contract = subscribed_on(START)
    with on(TODAY):
        build_schedule(contract, until=LAST_MONTH)
        post_due_premiums(on=TODAY)
    return contract


def spouse_nir() -> str:
    return make_nir(civility=CIVILITY_MALE, birth_date=SPOUSE_BIRTH, rng=random.Random(77))


def child(**changes) -> dict:
    data = {
        "role": BeneficiaryRole.CHILD,
        "civility": CIVILITY_FEMALE,
        "last_name": "Martin",
        "first_names": "Zoé",
        "birth_date": "2021-06-02",
        "attached": "on",
        "nir": "",
    }
    return {**data, **changes}


def spouse(**changes) -> dict:
    data = {
        "role": BeneficiaryRole.SPOUSE,
        "civility": CIVILITY_MALE,
        "last_name": "Martin",
        "first_names": "Paul",
        "birth_date": SPOUSE_BIRTH.isoformat(),
        "nir": spouse_nir(),
    }
    return {**data, **changes}


def add_url(contract) -> str:
    return reverse("backoffice:contract_beneficiary_add", args=[contract.member_id, contract.pk])


def remove_url(contract, beneficiary) -> str:
    return reverse(
        "backoffice:contract_beneficiary_remove",
        args=[contract.member_id, contract.pk, beneficiary.pk],
    )


def record_url(contract) -> str:
    return reverse("backoffice:member_detail", args=[contract.member_id])


def client_of(as_staff, user, day=TODAY):
    with on(day):
        return as_staff(user)


def get(client, url, day=TODAY):
    with on(day):
        return client.get(url)


def post(client, url, data, day=TODAY, **kwargs):
    with on(day):
        return client.post(url, data, **kwargs)


def amounts(contract) -> dict[datetime.date, Decimal]:
    return dict(Instalment.objects.filter(contract=contract).values_list("month", "amount"))


def events(tag: str) -> list[Event]:
    return list(Event.objects.filter(tag=tag))


def written() -> tuple:
    """What a refused post must leave as it was."""
    return (
        Person.objects.count(),
        Beneficiary.objects.count(),
        Event.objects.count(),
        tuple(Instalment.objects.order_by("pk").values_list("amount", flat=True)),
    )


def assert_never_shown(nir: str, *texts: str) -> None:
    for text in texts:
        squeezed = "".join(text.split())
        for form in (nir, format_nir(nir)):
            assert form not in text
            assert "".join(form.split()) not in squeezed


def audit_trail() -> str:
    return json.dumps(
        [[e.actor, e.subject_id, e.target, e.details] for e in Event.objects.all()],
        ensure_ascii=False,
    )


# --- Adding ------------------------------------------------------------------------------------


def test_gestion_adds_a_child_attached_to_the_member_nir_and_the_future_months_are_recomputed(
    contract, as_staff, gina
):
    before = amounts(contract)
    response = post(client_of(as_staff, gina), add_url(contract), child())

    assert response.status_code == 302
    assert response["Location"] == record_url(contract) + "#contrats"
    added = contract.beneficiaries.get(person__first_names="Zoé")
    assert added.role == BeneficiaryRole.CHILD and added.member == contract.member
    assert added.person.nir is None
    assert added.person.nir_holder == contract.member.person
    assert added.person.birth_date == datetime.date(2021, 6, 2)
    after = amounts(contract)
    for month, amount in before.items():
        if month < datetime.date(2027, 4, 1):  # posted: stays as booked
            assert after[month] == amount
        else:
            assert after[month] == amount + CHILD_RATE
    actor = f"user:{gina.pk}"
    created = events(MembersTag.PERSON_CREATE)[-1]
    assert created.actor == actor and created.subject_id == str(added.person_id)
    assert events(MembersTag.BENEFICIARY_CREATE)[-1].details == {
        "member": str(contract.member_id),
        "role": "child",
    }
    cover = events(BillingTag.CONTRACT_BENEFICIARY_ADD)[-1]
    assert cover.actor == actor and cover.target == f"contracts.contract:{contract.pk}"
    recompute = events(BillingTag.SCHEDULE_RECOMPUTE)[-1]
    assert recompute.details == {
        "from": "2027-03-01",
        "changed": 9,
        "reason": "ajout d'un bénéficiaire",
    }


def test_the_record_says_who_was_added_and_how_many_months_changed(contract, as_staff, gina):
    client = client_of(as_staff, gina)
    response = post(client, add_url(contract), child(), follow=True)
    text = visible_text(response)
    assert (
        f"Contrat {contract.number} : Zoé Martin fait désormais partie des personnes couvertes ; "
        "9 échéances à venir recalculées." in text
    )
    assert "Zoé Martin, née le 02/06/2021" in text


def test_gestion_adds_a_spouse_with_their_own_nir_which_never_comes_back(
    contract, as_staff, gina, caplog
):
    nir = spouse_nir()
    before = amounts(contract)
    client = client_of(as_staff, gina)
    with caplog.at_level(logging.DEBUG):
        response = post(client, add_url(contract), spouse(nir=format_nir(nir)), follow=True)

    added = contract.beneficiaries.get(role=BeneficiaryRole.SPOUSE)
    assert added.person.nir == nir and added.person.nir_holder is None
    assert added.person.full_name == "Paul Martin"
    april = datetime.date(2027, 4, 1)
    assert amounts(contract)[april] == before[april] + ADULT_RATE
    assert amounts(contract)[TODAY.replace(day=1)] == before[TODAY.replace(day=1)]
    # The record shows it masked (gestion sees administrative data), never in clear.
    assert mask_nir(nir) in page_text(response)
    assert_never_shown(nir, page_text(response), caplog.text, audit_trail())


def test_the_nir_typed_is_not_written_back_when_the_form_is_refused(contract, as_staff, gina):
    nir = spouse_nir()
    response = post(client_of(as_staff, gina), add_url(contract), spouse(first_names=""))
    text = page_text(response)
    assert "Le prénom est obligatoire." in text
    assert_never_shown(nir, text)
    assert f"Numéro saisi : {mask_nir(nir)}" in text
    assert not contract.beneficiaries.filter(role=BeneficiaryRole.SPOUSE).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (spouse(nir=spouse_nir()[:13] + "00"), "La clé du numéro de sécurité sociale"),
        (spouse(nir="1 83 09 75 123"), "doit compter 15 caractères"),
        (
            spouse(birth_date="1984-09-02"),
            "L'année de naissance inscrite dans le numéro de sécurité sociale",
        ),
        (spouse(civility=CIVILITY_FEMALE), "est celui d'un homme"),
        (spouse(nir=""), "Le numéro de sécurité sociale est obligatoire."),
        (child(birth_date="2021-02-30"), "Saisissez une date valide"),
        (child(birth_date="2030-01-01"), "La date de naissance ne peut pas être dans le futur."),
        (child(birth_date="1890-01-01"), "La date de naissance est invalide."),
        (child(last_name="M" * 100_000), "Le nom compte 100 caractères au plus."),
        (child(first_names="Zo\x00é"), NUL_REFUSED),
        (child(nir="\x00"), NUL_REFUSED),
        (child(first_names="   "), "Le prénom est obligatoire."),
        (child(role="cousin"), "Choisissez le lien avec l'adhérent."),
        (child(civility="X"), "Choisissez « Madame » ou « Monsieur »."),
        (child(birth_date="1995-01-01"), "Un enfant peut être couvert jusqu'à 28 ans."),
        (spouse(attached="on", nir=""), "Seul un enfant peut être rattaché"),
        (spouse(birth_date="2012-09-02"), "Un conjoint ou partenaire doit être majeur."),
    ],
)
def test_bad_input_is_refused_in_french_with_nothing_written(
    contract, as_staff, gina, data, message
):
    client = client_of(as_staff, gina)
    before, covered = written(), contract.beneficiaries.count()
    response = post(client, add_url(contract), data)
    assert response.status_code == 200
    text = page_text(response)
    assert message in text and "error-summary" in text
    assert written() == before and contract.beneficiaries.count() == covered


def test_a_nir_already_registered_is_refused_without_saying_whose(contract, as_staff, gina):
    holder_nir = contract.member.person.nir
    data = spouse(civility=CIVILITY_FEMALE, nir=holder_nir, birth_date="1985-04-12")
    before = written()
    response = post(client_of(as_staff, gina), add_url(contract), data)
    text = page_text(response)
    assert "déjà enregistré pour une autre personne" in text
    assert_never_shown(holder_nir, text)
    assert written() == before


def test_a_second_spouse_is_refused(contract, as_staff, gina):
    client = client_of(as_staff, gina)
    assert post(client, add_url(contract), spouse()).status_code == 302
    second = spouse(
        first_names="Jean",
        nir=make_nir(civility=CIVILITY_MALE, birth_date=SPOUSE_BIRTH, rng=random.Random(5)),
        role=BeneficiaryRole.PARTNER,
    )
    before = written()
    response = post(client, add_url(contract), second)
    assert "Un seul conjoint ou partenaire peut être couvert." in page_text(response)
    assert written() == before


def test_the_other_services_are_refused_and_nothing_is_written(
    contract, as_staff, colin, charlie, bob
):
    beneficiary = contract.beneficiaries.get()
    before = written()
    for user in (colin, charlie, bob):
        client = client_of(as_staff, user)
        assert get(client, add_url(contract)).status_code == 403
        assert post(client, add_url(contract), child()).status_code == 403
        response = post(client, remove_url(contract, beneficiary), {"confirm": "on"})
        assert response.status_code == 403
    assert written() == before
    assert contract.beneficiaries.get() == beneficiary


def test_only_gestion_is_offered_the_changes_on_the_record(contract, as_staff, gina, colin):
    gestion = visible_text(get(client_of(as_staff, gina), record_url(contract)))
    assert "Ajouter un bénéficiaire au contrat" in gestion
    assert "Retirer du contrat" in gestion
    cotisations = visible_text(get(client_of(as_staff, colin), record_url(contract)))
    assert "Ajouter un bénéficiaire" not in cotisations
    assert "Retirer du contrat" not in cotisations


def test_a_contract_of_another_member_is_not_found(contract, as_staff, gina, dave):
    other = reverse("backoffice:contract_beneficiary_add", args=[dave.pk, contract.pk])
    before = written()
    assert post(client_of(as_staff, gina), other, child()).status_code == 404
    assert written() == before


def test_a_change_the_schedule_cannot_price_is_refused_in_french_with_nothing_written(
    contract, as_staff, gina, monkeypatch
):
    def unpriced(*args, **kwargs):
        raise ValueError("no premium rate for age -1 in offer confort")

    monkeypatch.setattr(schedule, "recompute", unpriced)
    client = client_of(as_staff, gina)
    before = written()
    added = post(client, add_url(contract), child())
    removed = post(client, remove_url(contract, contract.beneficiaries.get()), {"confirm": "on"})
    for response in (added, removed):
        assert response.status_code == 200
        assert "Les cotisations de ce contrat n'ont pas pu être recalculées" in page_text(response)
    assert written() == before and contract.beneficiaries.count() == 1


# --- Removing ----------------------------------------------------------------------------------


def test_removing_needs_the_box_ticked(contract, as_staff, gina):
    beneficiary = contract.beneficiaries.get()
    before = written()
    response = post(client_of(as_staff, gina), remove_url(contract, beneficiary), {})
    assert response.status_code == 200
    assert "Cochez la case pour confirmer le retrait du contrat." in page_text(response)
    assert written() == before and contract.beneficiaries.get() == beneficiary


def test_removing_a_beneficiary_recomputes_the_future_months(contract, as_staff, gina):
    beneficiary = contract.beneficiaries.get()
    before = amounts(contract)
    client = client_of(as_staff, gina)
    response = post(client, remove_url(contract, beneficiary), {"confirm": "on"})

    assert response.status_code == 302
    assert not contract.beneficiaries.exists()
    assert Beneficiary.objects.filter(pk=beneficiary.pk).exists()  # still the member's
    after = amounts(contract)
    for month, amount in before.items():
        expected = amount if month < datetime.date(2027, 4, 1) else amount - CHILD_RATE
        assert after[month] == expected
    removed = events(BillingTag.CONTRACT_BENEFICIARY_REMOVE)[-1]
    assert removed.actor == f"user:{gina.pk}"
    assert removed.subject_id == str(beneficiary.person_id)
    assert events(BillingTag.SCHEDULE_RECOMPUTE)[-1].details["changed"] == 9
    # Removed once: a second post finds nobody to remove.
    again = post(client, remove_url(contract, beneficiary), {"confirm": "on"})
    assert again.status_code == 404


def test_removing_is_a_post(contract, as_staff, gina):
    beneficiary = contract.beneficiaries.get()
    response = get(client_of(as_staff, gina), remove_url(contract, beneficiary))
    assert response.status_code == 405
    assert contract.beneficiaries.get() == beneficiary


# --- What the record shows, and a contract whose cover changed for unpaid premiums ----------


UNPAID_START = datetime.date(2026, 12, 1)
SUSPENDED = datetime.date(2027, 2, 8)  # two days into the suspension
TERMINATED = datetime.date(2027, 2, 17)  # the day after its termination


@pytest.fixture
def unpaid(tmp_path, settings):
    """A contract whose December premium went unpaid (its debit rejected): the formal notice
    left on 7 January, so its cover is suspended from 6 February (C. mutualité L221-7)."""
    settings.MUTUALIS_SEPA_OUT_DIR = str(tmp_path)
    contract = subscribed_on(UNPAID_START)
    cycle_on(UNPAID_START)
    batch = batch_on(datetime.date(2027, 1, 5), tmp_path).batch
    cycle_on(datetime.date(2027, 1, 5))
    with on(datetime.date(2027, 1, 7)):
        report = pain002(batch, [(contract.member.debits.get(), "AM04")])
        import_bytes(report, file_name="retour.xml")
    cycle_on(datetime.date(2027, 1, 7))
    case = DunningCase.objects.get()
    assert case.notice_sent_on == datetime.date(2027, 1, 7)
    cycle_on(datetime.date(2027, 2, 6))
    case.refresh_from_db()
    assert case.suspended_from == datetime.date(2027, 2, 6)
    return contract


def status_cell(response) -> str:
    """The status column of the record's contracts table (one contract)."""
    contracts = page_text(response).split('<h2 id="contrats">', 1)[1]
    row = contracts.split('<th scope="row">', 1)[1].split("</tr>", 1)[0]
    return [cell.split("</td>")[0] for cell in row.split("<td>")[1:]][3]


def test_the_record_shows_the_cover_today_and_the_premium_account_to_whom_may_open_it(
    contract, as_staff, gina, colin
):
    cotisations = get(client_of(as_staff, colin), record_url(contract))
    assert status_cell(cotisations) == "couvert"
    account = reverse("backoffice:billing_member", kwargs={"member_id": contract.member_id})
    assert f'<a href="{account}">Compte cotisations</a>' in page_text(cotisations)
    gestion = get(client_of(as_staff, gina), record_url(contract))
    assert status_cell(gestion) == "couvert"
    assert "Compte cotisations" not in page_text(gestion)


def test_a_suspension_for_unpaid_premiums_shows_on_the_record(unpaid, as_staff, gina):
    response = get(client_of(as_staff, gina, SUSPENDED), record_url(unpaid), SUSPENDED)
    assert status_cell(response) == "garanties suspendues"
    # A suspended contract still runs: who it covers may change.
    assert "Ajouter un bénéficiaire au contrat" in visible_text(response)


def test_nothing_changes_on_a_contract_terminated_for_unpaid_premiums(unpaid, as_staff, gina):
    day = datetime.date(2027, 2, 16)
    with on(day):
        dunning.terminate(DunningCase.objects.get(), today=day, actor=None)
    client = client_of(as_staff, gina, TERMINATED)
    record = get(client, record_url(unpaid), TERMINATED)
    assert status_cell(record) == "contrat résilié"
    assert "Ajouter un bénéficiaire au contrat" not in visible_text(record)
    before = written()
    page = post(client, add_url(unpaid), child(), TERMINATED)
    assert "Ce contrat a pris fin le 16/02/2027" in visible_text(page)
    assert "Ajouter au contrat" not in visible_text(page)
    removal = post(
        client, remove_url(unpaid, unpaid.beneficiaries.get()), {"confirm": "on"}, TERMINATED
    )
    assert "Ce contrat a pris fin le 16/02/2027" in visible_text(removal)
    assert written() == before and unpaid.beneficiaries.count() == 1


def test_a_lapsed_mandate_shows_since_when(as_staff, colin):
    contract = subscribed_on(START)
    day = datetime.date(2030, 2, 1)
    with on(day):
        assert billing.lapse_mandates(today=day) == 1
    text = visible_text(get(client_of(as_staff, colin, day), record_url(contract), day))
    assert "(caduc depuis le 01/02/2030)" in text
