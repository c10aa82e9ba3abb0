"""The rules of collection: amendments sent with the next debit, the sequence type chosen from
the mandate's history, pre-notification of every change 14 days ahead, lapse after 36 months,
restricted people left alone, next year's amounts told before they apply."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from lxml import etree

from mutualis.audit.models import Event
from mutualis.billing import prenotify, schedule, services
from mutualis.billing.models import (
    Debit,
    Instalment,
    Mandate,
    PreNotification,
    SequenceType,
)
from mutualis.billing.testing import batch_on, cycle_on, on, subscribed_on
from mutualis.contracts.testing import child_of, make_person_data
from mutualis.members import services as members
from mutualis.members.models import BeneficiaryRole
from mutualis.members.testing import make_french_iban
from mutualis.privacy import catalogue, restrictions

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 12, 1)
JAN, FEB, MAR = datetime.date(2027, 1, 5), datetime.date(2027, 2, 5), datetime.date(2027, 3, 5)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@pytest.fixture
def contract():
    contract = subscribed_on(START)
    cycle_on(START)
    return contract


def _tx(path, member):
    debit = Debit.objects.get(member=member, batch__file_name=path.name)
    tree = etree.parse(str(path))
    [tx] = tree.xpath(
        f"//p:DrctDbtTxInf[p:PmtId/p:EndToEndId='{debit.end_to_end_id}']", namespaces=NS
    )
    return tx, tx.getparent().findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)


def test_first_then_recurring(contract, tmp_path):
    batch_on(JAN, tmp_path)
    feb = batch_on(FEB, tmp_path)
    assert Debit.objects.get(batch__collection_date=JAN).sequence_type == SequenceType.FIRST
    _, sequence = _tx(feb.path, contract.member)
    assert sequence == "RCUR"


def test_a_new_account_at_the_same_bank_is_sent_as_an_amendment(contract, tmp_path):
    batch_on(JAN, tmp_path)
    mandate = Mandate.objects.get(member=contract.member)
    old = mandate.iban
    new = old[:9] + "9" + old[10:]  # same bank and branch codes, another account
    new = services.stdnum_iban.compact(_with_valid_key(new))
    with on(datetime.date(2027, 1, 10)):
        services.change_bank_account(
            member=contract.member, iban=new, debtor_name="Alice Martin", signed_place="Lyon"
        )
    feb = batch_on(FEB, tmp_path)
    tx, sequence = _tx(feb.path, contract.member)
    assert sequence == "RCUR"
    assert tx.findtext(".//p:AmdmntInd", namespaces=NS) == "true"
    assert tx.findtext(".//p:AmdmntInfDtls/p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS) == old
    assert tx.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == new
    assert not Mandate.objects.get(pk=mandate.pk).amendment_pending  # sent: done
    mar = batch_on(MAR, tmp_path)
    tx, _ = _tx(mar.path, contract.member)
    assert tx.find(".//p:AmdmntInd", namespaces=NS) is None  # only once


def test_a_new_bank_is_sent_as_smnda_with_a_first_debit(contract, tmp_path):
    batch_on(JAN, tmp_path)
    with on(datetime.date(2027, 1, 10)):
        services.change_bank_account(
            member=contract.member,
            iban="BE68539007547034",
            debtor_name="Alice Martin",
            signed_place="Lyon",
        )
    feb = batch_on(FEB, tmp_path)
    tx, sequence = _tx(feb.path, contract.member)
    assert sequence == "FRST"
    assert tx.findtext(".//p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "SMNDA"


def test_a_new_mandate_reference_is_sent_as_the_original_one(contract, tmp_path, bob):
    batch_on(JAN, tmp_path)
    mandate = Mandate.objects.get(member=contract.member)
    old_reference = mandate.reference
    with on(datetime.date(2027, 1, 10)):
        services.change_reference(mandate=mandate, actor=bob, reason="migration des RUM")
    feb = batch_on(FEB, tmp_path)
    tx, _ = _tx(feb.path, contract.member)
    assert tx.findtext(".//p:AmdmntInfDtls/p:OrgnlMndtId", namespaces=NS) == old_reference
    assert tx.findtext(".//p:MndtRltdInf/p:MndtId", namespaces=NS) != old_reference
    with pytest.raises(ValueError, match="motif"):
        services.change_reference(mandate=mandate, actor=bob, reason="")


def test_the_last_debit_of_an_ended_contract_is_final(contract, tmp_path):
    batch_on(JAN, tmp_path)
    contract.end_date = datetime.date(2027, 2, 28)
    contract.save()
    with on(datetime.date(2027, 1, 10)):
        schedule.recompute(contract, from_month=datetime.date(2027, 2, 1), reason="résiliation")
    cycle_on(datetime.date(2027, 1, 10))
    # March's premium is now 0: March's debit is cancelled by a notice of 0 €.
    assert prenotify.announced(Mandate.objects.get(), MAR) == Decimal("0.00")  # given in time
    assert PreNotification.objects.filter(collection_date=MAR).latest("created_at").amount == 0
    feb = batch_on(FEB, tmp_path)
    assert Debit.objects.get(batch=feb.batch).sequence_type == SequenceType.FINAL


def test_a_one_off_mandate_is_debited_once_as_ooff(contract, tmp_path):
    Mandate.objects.update(one_off=True)
    jan = batch_on(JAN, tmp_path)
    assert Debit.objects.get(batch=jan.batch).sequence_type == SequenceType.ONE_OFF
    assert Mandate.objects.get().ended_at is not None  # used up


def test_a_beneficiary_added_changes_the_amount_which_is_announced_again(contract, tmp_path):
    batch_on(JAN, tmp_path)
    person = make_person_data(first_names="Alice", email="")
    with on(datetime.date(2027, 1, 12)):
        kid = members.create_person(
            data=child_of(person, first_names="Zoé", age=3, attached=False).person
        )
        beneficiary = members.add_beneficiary(
            member=contract.member, person=kid, role=BeneficiaryRole.CHILD
        )
        changed = schedule.add_beneficiary_to_contract(contract=contract, beneficiary=beneficiary)
    assert changed >= 1
    feb_amount = Instalment.objects.get(contract=contract, month=FEB.replace(day=1)).amount
    # Too late for 5 February (less than 14 days): February's debit waits for March's date,
    # whose new total is announced at once.
    mail.outbox.clear()
    cycle_on(datetime.date(2027, 1, 25))
    mandate = Mandate.objects.get()
    assert prenotify.announced(mandate, FEB) != feb_amount
    march = PreNotification.objects.filter(mandate=mandate, collection_date=MAR).latest(
        "created_at"
    )
    mar_amount = Instalment.objects.get(contract=contract, month=MAR.replace(day=1)).amount
    assert march.amount == feb_amount + mar_amount
    # Announcing again the next day changes nothing.
    count = PreNotification.objects.count()
    cycle_on(datetime.date(2027, 1, 26))
    assert PreNotification.objects.count() == count
    feb = batch_on(FEB, tmp_path)
    assert not Debit.objects.filter(batch=feb.batch).exists()
    assert feb.built.mismatched == 1
    mar = batch_on(MAR, tmp_path)
    assert Debit.objects.get(batch=mar.batch).amount == feb_amount + mar_amount
    # Announcing again changes nothing.


def test_a_restricted_member_is_neither_announced_nor_debited(contract, tmp_path, bob):
    restrictions.start(
        subject=contract.member.person,
        purpose=catalogue.CONTRACT,
        ground="restriction",
        reason="exactitude des données contestée (RGPD art. 18(1)(a))",
        actor=bob,
    )
    PreNotification.objects.all().delete()
    cycle_on(datetime.date(2026, 12, 2))
    assert not PreNotification.objects.exists()
    outcome = batch_on(JAN, tmp_path)
    assert outcome.batch.debits.count() == 0


def test_a_mandate_unused_for_36_months_lapses(contract):
    mandate = Mandate.objects.get()
    Mandate.objects.update(last_collected_on=datetime.date(2023, 12, 4))
    with on(datetime.date(2026, 12, 4)):
        assert services.lapse_mandates(today=datetime.date(2026, 12, 4)) == 0
    with on(datetime.date(2026, 12, 5)):
        assert services.lapse_mandates(today=datetime.date(2026, 12, 5)) == 1
    mandate.refresh_from_db()
    assert mandate.lapsed_at is not None
    assert not Mandate.objects.current().exists()
    assert Event.objects.filter(tag="billing:mandate:lapse").count() == 1


def test_next_year_s_amounts_are_told_before_they_apply(settings):
    contract = subscribed_on(datetime.date(2026, 9, 1))
    cycle_on(datetime.date(2026, 9, 1))
    assert not Instalment.objects.filter(month__year=2027).exists()
    Mandate.objects.update(ended_at=timezone.now())  # this member pays by transfer
    mail.outbox.clear()
    cycle_on(datetime.date(2026, 11, 1))
    assert Instalment.objects.filter(contract=contract, month__year=2027).count() == 12
    [notice] = [m for m in mail.outbox if "Vos cotisations en 2027" in m.subject]
    assert "janvier 2027" in notice.body
    assert Event.objects.filter(tag="billing:tariff_notice:send").count() == 1


def _with_valid_key(iban: str) -> str:
    """The same IBAN with its check digits computed again (ISO 13616, mod 97)."""
    bban = iban[4:]
    rearranged = bban + iban[:2] + "00"
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{iban[:2]}{98 - int(digits) % 97:02d}{bban}"


def test_the_helper_builds_a_valid_iban():
    from stdnum import iban

    assert iban.is_valid(_with_valid_key(make_french_iban()))
