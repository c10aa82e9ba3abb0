"""Subscription creates everything in one transaction, or nothing at all."""

from __future__ import annotations

import datetime
import random

import pytest
from django.core import mail
from django.utils import timezone

from mutualis.audit.models import Event
from mutualis.billing.models import Mandate
from mutualis.contracts import services
from mutualis.contracts.application import ApplicationInvalid
from mutualis.contracts.models import Contract, PremiumRate
from mutualis.contracts.testing import (
    child_of,
    ensure_offers,
    make_application,
    make_person_data,
    spouse_of,
)
from mutualis.members.models import Beneficiary, Member, Person, User
from mutualis.members.validators import mask_iban, mask_nir

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offers():
    return ensure_offers()


def _problems(application) -> dict[str, str]:
    with pytest.raises(ApplicationInvalid) as exc:
        services.subscribe(application=application)
    messages: dict[str, str] = {}
    for problem in exc.value.problems:
        messages[problem.field] = (messages.get(problem.field, "") + " " + problem.message).strip()
    return messages


def test_it_creates_person_member_beneficiaries_contract_and_mandate(
    django_capture_on_commit_callbacks,
):
    member = make_person_data()
    application = make_application(
        member=member, beneficiaries=[spouse_of(member), child_of(member)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        contract = services.subscribe(
            application=application, activation_link=lambda account: f"/lien/{account.pk}/"
        )

    assert contract.member.person.nir == member.nir
    assert contract.member.person.birth_date == member.birth_date
    assert contract.beneficiaries.count() == 2
    child = contract.beneficiaries.get(role="child").person
    assert child.nir is None and child.nir_holder == contract.member.person
    mandate = Mandate.objects.get(member=contract.member)
    assert mandate.iban == application.payment.iban
    assert mandate.creditor_identifier == "FR72ZZZ123456"
    assert len(mandate.reference) <= 35
    assert contract.policy_version_id == application.policy_version_id
    assert contract.monthly_premium() > 0
    # One e-mail, with a link to set the password; no NIR or IBAN in it.
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"/lien/{contract.member.account_id}/" in body  # the face's link, passed in
    assert member.nir not in body and application.payment.iban not in body


def test_the_audit_log_records_each_write_without_clear_identifiers():
    member = make_person_data()
    application = make_application(member=member, beneficiaries=[child_of(member)])
    services.subscribe(application=application)
    tags = list(Event.objects.order_by("id").values_list("tag", flat=True))
    assert tags.count("members:person:create") == 2
    assert "contracts:contract:create" in tags and "billing:mandate:create" in tags
    dump = " ".join(str(e.details) + e.target + e.subject_id for e in Event.objects.all())
    for secret in (member.nir, application.payment.iban, member.last_name, member.email):
        assert secret not in dump


def test_a_nir_already_registered_is_refused_without_saying_whose(alice):
    other = make_person_data(first_names="Eve", email="eve@example.org")
    other.nir = alice.person.nir
    problems = _problems(make_application(member=other))
    assert "déjà enregistré" in problems["member.nir"]
    assert "Alice" not in problems["member.nir"] and alice.number not in problems["member.nir"]


def test_an_invalid_application_writes_nothing():
    member = make_person_data()
    application = make_application(member=member)
    application.payment.iban = "FR7630006000011234567890188"
    before = (Person.objects.count(), Member.objects.count(), Event.objects.count())
    problems = _problems(application)
    assert "payment.iban" in problems
    assert (Person.objects.count(), Member.objects.count(), Event.objects.count()) == before


def test_a_failure_midway_rolls_everything_back(monkeypatch):
    from mutualis.billing import services as billing

    def boom(**kwargs):
        raise RuntimeError("bank down")

    monkeypatch.setattr(billing, "create_mandate", boom)
    with pytest.raises(RuntimeError):
        services.subscribe(application=make_application())
    assert Person.objects.count() == 0
    assert Contract.objects.count() == 0
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda a: setattr(
                a.member, "birth_date", timezone.localdate() + datetime.timedelta(days=1)
            ),
            "member.birth_date",
        ),
        (lambda a: setattr(a.member, "nir", "295109912611194"), "member.nir"),
        (lambda a: setattr(a.member, "civility", "M"), "member.nir"),
        (lambda a: setattr(a.member, "email", "pas-une-adresse"), "member.email"),
        (lambda a: setattr(a.member, "postal_code", "7501"), "member.postal_code"),
        (lambda a: setattr(a.member, "phone_mobile", "12"), "member.phone_mobile"),
        (lambda a: setattr(a.member, "scheme_caisse", "7"), "member.scheme"),
        (lambda a: setattr(a.payment, "iban", "BR1800360305000010009795493C1"), "payment.iban"),
        (lambda a: setattr(a, "offer_code", "inconnue"), "offer"),
        (lambda a: setattr(a, "cgu_version", ""), "acceptance.cgu"),
        (lambda a: setattr(a, "policy_version_id", None), "acceptance.policy"),
        (
            lambda a: setattr(a, "start_date", timezone.localdate() - datetime.timedelta(days=1)),
            "start_date",
        ),
    ],
)
def test_each_rule_is_reported_on_its_field(change, field):
    application = make_application()
    change(application)
    problems = _problems(application)
    assert field in problems
    assert problems[field]  # a French message


def test_a_spouse_must_be_an_adult_and_a_child_younger_than_the_member():
    member = make_person_data()
    spouse = spouse_of(member)
    spouse.person.birth_date = timezone.localdate().replace(year=timezone.localdate().year - 15)
    spouse.person.nir = None
    old_child = child_of(member, age=30)
    problems = _problems(make_application(member=member, beneficiaries=[spouse, old_child]))
    assert "majeur" in problems["beneficiaries[1].birth_date"]
    assert "28 ans" in problems["beneficiaries[2].birth_date"]


def test_only_a_child_may_be_attached_to_the_member_nir():
    member = make_person_data()
    spouse = spouse_of(member)
    spouse.attached_to_member_nir = True
    spouse.person.nir = None
    problems = _problems(make_application(member=member, beneficiaries=[spouse]))
    assert "Seul un enfant" in problems["beneficiaries[1].nir"]


def test_the_same_nir_twice_in_one_application_is_refused():
    member = make_person_data()
    child = child_of(member, attached=False, rng=random.Random(3))
    child.person.nir = member.nir
    problems = _problems(make_application(member=member, beneficiaries=[child]))
    assert "beneficiaries" in problems


def test_masks_hide_the_middle_of_nir_and_iban(alice):
    person = alice.person
    assert mask_nir(person.nir).startswith(person.nir[0])
    assert person.nir[5:13] not in person.masked_nir
    mandate = alice.mandates.get()
    assert mandate.masked_iban == mask_iban(mandate.iban)
    assert mandate.iban[4:20] not in mandate.masked_iban


def test_premium_sums_each_covered_person_by_age_band(alice):
    contract = alice.contracts.get()
    day = datetime.date(2026, 11, 26)
    expected = sum(
        contract.offer.monthly_rate_for_age(p.age_on(day)) for p in contract.covered_people()
    )
    assert contract.monthly_premium(day) == expected
    assert Beneficiary.objects.filter(member=alice).count() == 1


def _with_next_year_table(contract: Contract) -> None:
    """A table from 1 January 2027 at twice each amount of the table in force."""
    for rate in contract.offer.rates.all():
        PremiumRate.objects.create(
            offer=contract.offer,
            min_age=rate.min_age,
            max_age=rate.max_age,
            monthly_amount=rate.monthly_amount * 2,
            effective_from=datetime.date(2027, 1, 1),
        )


def test_the_premium_of_a_day_reads_the_table_in_force_that_day_in_one_query(
    alice, django_assert_num_queries
):
    contract = (
        Contract.objects.select_related("offer", "member__person__data_key")
        .prefetch_related("beneficiaries__person__data_key")
        .get(member=alice)
    )
    _with_next_year_table(contract)
    before = contract.monthly_premium(datetime.date(2026, 12, 31))
    with django_assert_num_queries(1):  # whatever the number of people covered
        after = contract.monthly_premium(datetime.date(2027, 1, 1))
    assert before > 0 and after == before * 2
    child = contract.beneficiaries.get().person
    assert contract.offer.monthly_rate_for_age(
        child.age_on(datetime.date(2027, 1, 1)), on=datetime.date(2027, 1, 1)
    ) == 2 * contract.offer.monthly_rate_for_age(
        child.age_on(datetime.date(2026, 12, 31)), on=datetime.date(2026, 12, 31)
    )


def test_an_age_no_band_of_the_table_holds_has_no_rate(alice):
    offer = alice.contracts.get().offer
    with pytest.raises(ValueError, match="no premium rate for age 131"):
        offer.monthly_rate_for_age(131)
    with pytest.raises(ValueError, match="no premium rate"):
        offer.monthly_rate_for_age(30, on=datetime.date(1990, 1, 1))  # before any table
