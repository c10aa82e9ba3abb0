"""Recovery codes: ten, single-use, kept hashed, their use audited and followed by a new
enrolment; a second-factor reset needs two administrators."""

from __future__ import annotations

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.audit.models import Event
from mutualis.audit.security import SecurityEvent
from mutualis.backoffice.testing import give_device
from mutualis.staff import approvals, factors
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.models import RecoveryCode
from mutualis.staff.tags import StaffTag
from mutualis.staff.tests.conftest import link_for

pytestmark = pytest.mark.django_db


def test_ten_codes_are_issued_and_only_their_keyed_hash_is_stored(gina):
    codes = factors.issue_recovery_codes(account=gina)
    assert len(codes) == len(set(codes)) == 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest FROM staff_recoverycode")
        stored = " ".join(row[0] for row in cursor.fetchall())
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    assert RecoveryCode.objects.filter(account=gina).count() == 10
    assert Event.objects.filter(tag=StaffTag.RECOVERY_ISSUE).get().details == {"count": 10}


def test_a_code_works_once_removes_the_app_and_is_audited(gina):
    give_device(gina)
    codes = factors.issue_recovery_codes(account=gina)
    assert factors.use_recovery_code(account=gina, code=codes[3].lower(), address="192.0.2.8")
    assert not TOTPDevice.objects.filter(user=gina).exists()  # enrol again
    assert factors.codes_left(gina) == 9
    assert not factors.use_recovery_code(account=gina, code=codes[3])  # spent
    event = Event.objects.filter(tag=StaffTag.RECOVERY_USE).get()
    assert event.actor == f"user:{gina.pk}" and event.details == {"left": 9}
    logged = SecurityEvent.objects.get(kind=StaffTag.RECOVERY_USE)
    assert logged.network == "192.0.2.0/24" and "192.0.2.8" not in str(logged.details)


def test_a_wrong_code_changes_nothing(gina):
    device = give_device(gina)
    factors.issue_recovery_codes(account=gina)
    assert not factors.use_recovery_code(account=gina, code="AAAAA-AAAAA")
    assert TOTPDevice.objects.filter(pk=device.pk).exists() and factors.codes_left(gina) == 10


def test_new_codes_void_the_old_ones(gina):
    old = factors.issue_recovery_codes(account=gina)
    factors.issue_recovery_codes(account=gina)
    assert not factors.use_recovery_code(account=gina, code=old[0])


def test_another_accounts_code_is_refused(gina, ada):
    codes = factors.issue_recovery_codes(account=ada)
    assert not factors.use_recovery_code(account=gina, code=codes[0])


def test_a_factor_reset_needs_a_second_administrator(ada, alan, gina):
    give_device(gina)
    factors.issue_recovery_codes(account=gina)
    approval = approvals.request_factor_reset(account=gina, actor=ada, reason="Téléphone perdu")
    assert TOTPDevice.objects.filter(user=gina).exists()  # nothing happens before approval
    with pytest.raises(StaffActionRefused):
        approvals.approve(approval=approval, actor=ada, link_for=link_for)
    approvals.approve(approval=approval, actor=alan, link_for=link_for)
    assert not TOTPDevice.objects.filter(user=gina).exists()
    assert not RecoveryCode.objects.filter(account=gina).exists()
    assert Event.objects.filter(tag=StaffTag.FACTOR_RESET, actor=f"user:{alan.pk}").exists()


def test_an_administrator_cannot_ask_for_their_own_reset(ada):
    with pytest.raises(StaffActionRefused):
        approvals.request_factor_reset(account=ada, actor=ada, reason="Téléphone perdu")


def test_a_reset_without_reason_is_refused(ada, gina):
    with pytest.raises(StaffActionRefused, match="motif"):
        approvals.request_factor_reset(account=gina, actor=ada, reason="  ")
