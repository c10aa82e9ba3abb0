"""Changing who a running contract covers: the subscription's rules for one beneficiary, all or
nothing with the premium schedule recomputed."""

from __future__ import annotations

import datetime

import pytest

from mutualis.audit.models import Event
from mutualis.billing import schedule
from mutualis.billing.models import Instalment
from mutualis.billing.testing import on, subscribed_on
from mutualis.contracts import services
from mutualis.contracts.application import (
    ApplicationInvalid,
    check_added_beneficiary,
    check_application,
)
from mutualis.contracts.testing import child_of, make_application, make_person_data, spouse_of
from mutualis.members.models import Beneficiary, Person

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 3, 10)


def _written() -> tuple[int, int, int]:
    return Person.objects.count(), Beneficiary.objects.count(), Event.objects.count()


def test_one_beneficiary_meets_the_rules_of_the_subscription():
    with on(DAY):
        member = make_person_data()
        attached_spouse = spouse_of(member)
        attached_spouse.attached_to_member_nir = True
        attached_spouse.person.nir = None
        as_application = check_application(
            make_application(member=member, beneficiaries=[attached_spouse])
        )
        alone = check_added_beneficiary(attached_spouse, member=member, covered_roles=[])
    assert [p.message for p in alone] == [
        p.message for p in as_application if p.field.startswith("beneficiaries[1]")
    ]
    assert [p.field for p in alone] == ["beneficiary.nir"]


def test_a_second_spouse_is_refused_alike_at_subscription_and_afterwards():
    with on(DAY):
        member = make_person_data()
        first, second = spouse_of(member), spouse_of(member, first_names="Jean")
        at_subscription = check_application(
            make_application(member=member, beneficiaries=[first, second])
        )
        afterwards = check_added_beneficiary(second, member=member, covered_roles=["spouse"])
    message = "Un seul conjoint ou partenaire peut être couvert."
    assert message in [p.message for p in at_subscription if p.field == "beneficiaries"]
    assert [(p.field, p.message) for p in afterwards] == [("beneficiaries", message)]


def test_a_failure_midway_leaves_nothing_written(monkeypatch):
    contract = subscribed_on(datetime.date(2027, 1, 4))
    with on(DAY):
        schedule.build_schedule(contract, until=datetime.date(2027, 6, 1))
    amounts = list(Instalment.objects.order_by("pk").values_list("amount", flat=True))
    before = _written()

    def broken(*args, **kwargs):
        raise RuntimeError("the schedule could not be recomputed")

    monkeypatch.setattr(schedule, "recompute", broken)
    with on(DAY), pytest.raises(RuntimeError):
        services.cover_new_beneficiary(
            contract=contract, beneficiary=child_of(make_person_data(), first_names="Zoé")
        )
    assert _written() == before
    assert contract.beneficiaries.count() == 1
    assert list(Instalment.objects.order_by("pk").values_list("amount", flat=True)) == amounts


def test_a_refused_beneficiary_raises_the_problems_on_their_fields():
    contract = subscribed_on(datetime.date(2027, 1, 4))
    holder_nir = contract.member.person.nir
    spouse = spouse_of(make_person_data())
    spouse.person.nir = holder_nir
    before = _written()
    with on(DAY), pytest.raises(ApplicationInvalid) as refused:
        services.cover_new_beneficiary(contract=contract, beneficiary=spouse)
    fields = {p.field for p in refused.value.problems}
    assert "beneficiary.nir" in fields
    assert holder_nir not in str(refused.value)
    assert _written() == before


def test_only_a_covered_beneficiary_can_be_withdrawn():
    contract = subscribed_on(datetime.date(2027, 1, 4))
    other = subscribed_on(datetime.date(2027, 1, 4), email="dave@example.org", seed=2)
    with on(DAY), pytest.raises(services.ContractChangeRefused):
        services.uncover_beneficiary(contract=contract, beneficiary=other.beneficiaries.get())
    assert contract.beneficiaries.count() == 1 and other.beneficiaries.count() == 1


def test_a_month_the_schedule_cannot_price_refuses_the_change_with_nothing_written(
    monkeypatch, caplog
):
    contract = subscribed_on(datetime.date(2027, 1, 4))
    with on(DAY):
        schedule.build_schedule(contract, until=datetime.date(2027, 6, 1))
    before = _written()

    def unpriced(*args, **kwargs):
        raise ValueError("no premium rate for age -1 in offer confort")

    monkeypatch.setattr(schedule, "recompute", unpriced)
    child = child_of(make_person_data(), first_names="Zoé")
    with on(DAY), pytest.raises(ApplicationInvalid) as refused:
        services.cover_new_beneficiary(contract=contract, beneficiary=child)
    assert [p.field for p in refused.value.problems] == ["contract"]
    assert "rien n'a été enregistré" in refused.value.problems[0].message
    with on(DAY), pytest.raises(services.ContractChangeRefused):
        services.uncover_beneficiary(contract=contract, beneficiary=contract.beneficiaries.get())
    assert _written() == before and contract.beneficiaries.count() == 1
    assert f"premium schedule of contract {contract.number} not recomputed" in caplog.text
