"""The command-line fallback for a lost second factor: allowed only when two other
administrators able to log in cannot reset it with four eyes from the back office; audited."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualis.audit.models import Event
from mutualis.audit.security import SecurityEvent
from mutualis.backoffice.testing import give_device
from mutualis.staff import factors
from mutualis.staff.models import RecoveryCode
from mutualis.staff.tags import StaffTag
from mutualis.staff.tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _reset(email: str) -> str:
    out = io.StringIO()
    call_command("reset_staff_factor", email, stdout=out)
    return out.getvalue()


def test_the_only_administrator_who_lost_the_app_and_codes_is_reset_from_the_server(ada):
    give_device(ada)
    factors.issue_recovery_codes(account=ada)
    output = _reset("ADA@mutuelle.example")
    assert "réinitialisée" in output and "nouvelle application" in output
    assert not TOTPDevice.objects.filter(user=ada).exists()
    assert not RecoveryCode.objects.filter(account=ada).exists()
    event = Event.objects.get(tag=StaffTag.FACTOR_RESET)
    assert (event.actor, event.target) == ("system", f"members.user:{ada.pk}")
    assert SecurityEvent.objects.filter(kind=StaffTag.FACTOR_RESET).count() == 1


def test_one_other_administrator_cannot_do_it_alone_so_the_command_may(ada, alan):
    give_device(ada)
    give_device(alan)  # alan could ask, but nobody else could approve
    _reset(ada.email)
    assert not TOTPDevice.objects.filter(user=ada).exists()


def test_the_command_is_refused_when_two_other_administrators_can_use_the_pages(ada, alan, gina):
    third = make_staff("admin", "anne@mutuelle.example")
    for account in (ada, alan, third):
        give_device(account)
    with pytest.raises(CommandError, match="depuis la gestion interne"):
        _reset(gina.email)  # not an administrator: two administrators are enough
    with pytest.raises(CommandError, match="depuis la gestion interne"):
        _reset(ada.email)  # alan asks, anne approves
    assert TOTPDevice.objects.filter(user=ada).exists()
    assert not Event.objects.filter(tag=StaffTag.FACTOR_RESET).exists()


def test_an_administrator_who_cannot_log_in_does_not_count(ada, alan):
    third = make_staff("admin", "anne@mutuelle.example")
    give_device(ada)
    give_device(alan)
    give_device(third, confirmed=False)  # still enrolling: cannot approve anything
    _reset(ada.email)
    assert not TOTPDevice.objects.filter(user=ada, confirmed=True).exists()


def test_an_unknown_or_inactive_address_is_refused(ada):
    with pytest.raises(CommandError, match="Aucun compte actif"):
        _reset("personne@mutuelle.example")
    ada.is_active = False
    ada.save()
    with pytest.raises(CommandError, match="Aucun compte actif"):
        _reset(ada.email)
