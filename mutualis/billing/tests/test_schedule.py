"""The premium schedule: dated rate tables, age on the month's first day, proration by day,
idempotent building, recomputation of unposted months, posting due premiums once."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from mutualis.audit.models import Event
from mutualis.billing import schedule
from mutualis.billing.models import Instalment, LedgerEntry, LedgerKind
from mutualis.billing.testing import subscribed_on
from mutualis.contracts.models import PremiumRate
from mutualis.members.models import Beneficiary

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 15)


def _full(contract, month):
    return sum(
        (
            contract.offer.monthly_rate_for_age(p.age_on(month), on=month)
            for p in contract.covered_people()
        ),
        Decimal("0"),
    )


def test_one_instalment_per_covered_month_prorated_for_a_start_inside_the_month(settings):
    settings.MUTUALIS_PREMIUM_DUE_DAY = 5
    contract = subscribed_on(START)
    created = schedule.build_schedule(contract, until=datetime.date(2026, 4, 30))
    assert [i.month for i in created] == [datetime.date(2026, m, 1) for m in (1, 2, 3, 4)]
    jan, feb = created[0], created[1]
    full = _full(contract, datetime.date(2026, 1, 1))
    # 17 covered days (15 to 31) out of 31, half up to the cent.
    assert jan.amount == (full * 17 / 31).quantize(Decimal("0.01"))
    assert jan.due_date == START  # starts after the 5th: due on the start day
    assert feb.amount == _full(contract, datetime.date(2026, 2, 1))
    assert feb.due_date == datetime.date(2026, 2, 5)
    assert jan.year_end == datetime.date(2026, 12, 31)


def test_building_twice_adds_nothing_and_an_end_inside_a_month_is_prorated():
    contract = subscribed_on(START)
    schedule.build_schedule(contract, until=datetime.date(2026, 3, 31))
    assert schedule.build_schedule(contract, until=datetime.date(2026, 3, 31)) == []
    contract.end_date = datetime.date(2026, 5, 10)
    contract.save()
    created = schedule.build_schedule(contract, until=datetime.date(2026, 12, 31))
    assert [i.month.month for i in created] == [4, 5]
    may = created[1]
    assert may.amount == (_full(contract, may.month) * 10 / 31).quantize(Decimal("0.01"))
    assert Instalment.objects.filter(contract=contract).count() == 5


def test_a_new_rate_table_applies_from_its_first_day(settings):
    contract = subscribed_on(START)
    offer = contract.offer
    for rate in list(offer.rates.all()):
        PremiumRate.objects.create(
            offer=offer,
            min_age=rate.min_age,
            max_age=rate.max_age,
            monthly_amount=rate.monthly_amount + Decimal("10.00"),
            effective_from=datetime.date(2027, 1, 1),
        )
    instalments = schedule.build_schedule(contract, until=datetime.date(2027, 1, 31))
    dec, jan = instalments[-2], instalments[-1]
    people = len(contract.covered_people())
    assert jan.amount - dec.amount == Decimal("10.00") * people


def test_adding_a_beneficiary_recomputes_only_unposted_months_and_is_audited():
    contract = subscribed_on(START)
    schedule.build_schedule(contract, until=datetime.date(2026, 6, 30))
    assert schedule.post_due_premiums(on=datetime.date(2026, 2, 5)) == 2
    before = {i.month: i.amount for i in Instalment.objects.filter(contract=contract)}
    child = contract.beneficiaries.get()
    with pytest.raises(ValueError):
        other = Beneficiary(member_id=None)
        schedule.add_beneficiary_to_contract(contract=contract, beneficiary=other)
    with time_machine.travel(datetime.datetime(2026, 2, 20, 10), tick=False):
        changed = schedule.remove_beneficiary_from_contract(contract=contract, beneficiary=child)
    assert changed == 4  # March to June; January and February were posted
    after = {i.month: i.amount for i in Instalment.objects.filter(contract=contract)}
    assert after[datetime.date(2026, 2, 1)] == before[datetime.date(2026, 2, 1)]
    assert after[datetime.date(2026, 3, 1)] < before[datetime.date(2026, 3, 1)]
    assert Event.objects.filter(tag="billing:schedule:recompute").exists()
    assert Event.objects.filter(tag="billing:contract_beneficiary:remove").exists()
    with time_machine.travel(datetime.datetime(2026, 2, 20, 10), tick=False):
        schedule.add_beneficiary_to_contract(contract=contract, beneficiary=child)
    again = {i.month: i.amount for i in Instalment.objects.filter(contract=contract)}
    assert again == before


def test_due_premiums_are_booked_once_with_their_key():
    contract = subscribed_on(START)
    schedule.build_schedule(contract, until=datetime.date(2026, 3, 31))
    assert schedule.post_due_premiums(on=datetime.date(2026, 3, 4)) == 2
    assert schedule.post_due_premiums(on=datetime.date(2026, 3, 4)) == 0
    assert schedule.post_due_premiums(on=datetime.date(2026, 3, 5)) == 1
    entries = LedgerEntry.objects.filter(kind=LedgerKind.PREMIUM).order_by("booked_on")
    assert [e.idempotency_key for e in entries] == [
        f"premium:{i.pk}" for i in Instalment.objects.filter(contract=contract).order_by("month")
    ]
    assert sum(e.amount for e in entries) == sum(
        i.amount for i in Instalment.objects.filter(contract=contract)
    )


def test_a_child_born_during_a_month_is_covered_free_until_the_next_month():
    from mutualis.contracts.testing import child_of, make_person_data
    from mutualis.members import services as members
    from mutualis.members.models import BeneficiaryRole

    contract = subscribed_on(START, children=0)
    schedule.build_schedule(contract, until=datetime.date(2026, 4, 30))
    before = Instalment.objects.get(contract=contract, month=datetime.date(2026, 3, 1)).amount
    with time_machine.travel(datetime.datetime(2026, 3, 3, 10), tick=False):
        data = child_of(make_person_data(first_names="Alice"), first_names="Lou", attached=False)
        data.person.birth_date = datetime.date(2026, 3, 2)
        baby = members.create_person(data=data.person)
        beneficiary = members.add_beneficiary(
            member=contract.member, person=baby, role=BeneficiaryRole.CHILD
        )
        schedule.add_beneficiary_to_contract(contract=contract, beneficiary=beneficiary)
    march = Instalment.objects.get(contract=contract, month=datetime.date(2026, 3, 1))
    april = Instalment.objects.get(contract=contract, month=datetime.date(2026, 4, 1))
    assert march.amount == before  # born on the 2nd: nothing more for March
    assert april.amount > march.amount
