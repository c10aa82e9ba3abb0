"""Staff administration: invitations, services, deactivation, the last administrator, and the
retention of a departed staff member's account."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils.http import urlsafe_base64_decode

from mutualis.audit.models import Event
from mutualis.audit.security import SecurityEvent
from mutualis.members.models import User
from mutualis.privacy import holds, retention
from mutualis.staff import accounts, approvals
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.invitations import invitation_tokens
from mutualis.staff.models import Approval, ApprovalStatus, StaffAccount
from mutualis.staff.tags import StaffTag
from mutualis.staff.tests.conftest import link_for, link_in, make_staff

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 5, 4, 10, 0, tzinfo=PARIS)


def _invite(actor, role="gestion", email="nina@mutuelle.example"):
    account, approval = accounts.invite(
        email=email, display_name="Nina Petit", role=role, actor=actor, link_for=link_for
    )
    return account, approval


def test_an_invitation_is_mailed_with_a_single_use_link(
    ada, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        account, approval = _invite(ada)
    assert approval is None
    assert account.role == "gestion" and not account.has_usable_password()
    (message,) = smtp_server.messages
    assert message.rcpt_tos == ["nina@mutuelle.example"]
    assert "choisissez votre mot de passe" in message.message["Subject"]
    uidb64, token = link_in(message.body)
    assert int(urlsafe_base64_decode(uidb64)) == account.pk
    assert invitation_tokens.check_token(account, token)
    accounts.accept_invitation(account=account, password="un mot de passe assez long")
    account.refresh_from_db()
    assert account.check_password("un mot de passe assez long")
    assert not invitation_tokens.check_token(account, token)  # spent
    assert StaffAccount.objects.get(pk=account.pk).password_set_at is not None
    tags = list(Event.objects.order_by("id").values_list("tag", flat=True))
    assert tags[-2:] == [StaffTag.INVITE, StaffTag.PASSWORD_SET]
    assert SecurityEvent.objects.filter(kind=StaffTag.INVITE).exists()


def test_the_invitation_link_expires_after_its_lifetime(ada, settings):
    with time_machine.travel(NOW, tick=False) as traveller:
        account, _ = _invite(ada)
        token = invitation_tokens.make_token(account)
        traveller.shift(datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT))
        assert invitation_tokens.check_token(account, token)
        traveller.shift(datetime.timedelta(seconds=1))
        assert not invitation_tokens.check_token(account, token)


def test_a_new_invitation_voids_the_previous_link(ada, django_capture_on_commit_callbacks):
    account, _ = _invite(ada)
    first = invitation_tokens.make_token(account)
    accounts.send_new_invitation(account=account, actor=ada, link_for=link_for)
    account.refresh_from_db()
    assert not invitation_tokens.check_token(account, first)


def test_an_activation_token_of_the_member_space_is_no_invitation(ada):
    from django.contrib.auth.tokens import default_token_generator

    account, _ = _invite(ada)
    assert not invitation_tokens.check_token(account, default_token_generator.make_token(account))


def test_an_address_already_in_use_is_refused(ada, gina):
    with pytest.raises(StaffActionRefused, match="existe déjà"):
        _invite(ada, email="GINA@mutuelle.example")


def test_an_unknown_service_is_refused(ada):
    with pytest.raises(StaffActionRefused):
        _invite(ada, role="superuser")
    assert not User.objects.filter(email="nina@mutuelle.example").exists()


def test_inviting_an_administrator_waits_for_a_second_one(
    ada, alan, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        account, approval = _invite(ada, role="admin")
    assert account.role == "" and approval.status == ApprovalStatus.PENDING
    assert smtp_server.messages == []  # nothing sent before the approval
    with pytest.raises(StaffActionRefused, match="autre administrateur"):
        approvals.approve(approval=approval, actor=ada, link_for=link_for)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve(approval=approval, actor=alan, link_for=link_for)
    account.refresh_from_db()
    assert account.role == "admin"
    assert [m.rcpt_tos for m in smtp_server.messages] == [["nina@mutuelle.example"]]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED and approval.decided_by == alan
    assert Event.objects.filter(tag=StaffTag.APPROVAL_APPROVE, actor=f"user:{alan.pk}").exists()


def test_moving_someone_to_the_dpo_needs_a_second_administrator(ada, alan, gina):
    approval = accounts.change_role(account=gina, role="dpo", actor=ada)
    gina.refresh_from_db()
    assert gina.role == "gestion" and approval.role == "dpo"
    with pytest.raises(StaffActionRefused):  # the same request twice
        accounts.change_role(account=gina, role="dpo", actor=alan)
    approvals.approve(approval=approval, actor=alan, link_for=link_for)
    gina.refresh_from_db()
    assert gina.role == "dpo"
    event = Event.objects.filter(tag=StaffTag.ROLE_CHANGE).latest("id")
    assert event.details == {"from": "gestion", "to": "dpo"}


def test_an_ordinary_service_change_is_immediate_and_audited(ada, gina):
    assert accounts.change_role(account=gina, role="cotisations", actor=ada) is None
    gina.refresh_from_db()
    assert gina.role == "cotisations"
    assert Event.objects.filter(tag=StaffTag.ROLE_CHANGE, target=f"members.user:{gina.pk}").exists()


def test_the_account_concerned_cannot_approve_its_own_grant(ada, alan, gina):
    approval = accounts.change_role(account=alan, role="dpo", actor=ada)
    with pytest.raises(StaffActionRefused):
        approvals.approve(approval=approval, actor=alan, link_for=link_for)


def test_the_last_active_administrator_cannot_be_deactivated(ada, alan):
    accounts.deactivate(account=alan, actor=ada)  # two admins: one may go
    alan.refresh_from_db()
    assert not alan.is_active
    # Whoever asks (here a reactivated colleague of another service), ada is now the last one.
    helper = make_staff("relation_adherent", "otto@mutuelle.example")
    with pytest.raises(StaffActionRefused, match="au moins un administrateur"):
        accounts.deactivate(account=ada, actor=helper)
    ada.refresh_from_db()
    assert ada.is_active


def test_an_administrator_cannot_demote_the_last_administrator(ada, alan):
    accounts.change_role(account=alan, role="gestion", actor=ada)
    with pytest.raises(StaffActionRefused, match="au moins un administrateur"):
        accounts.change_role(account=ada, role="gestion", actor=alan)
    ada.refresh_from_db()
    assert ada.role == "admin"


def test_nobody_deactivates_or_moves_their_own_account(ada):
    with pytest.raises(StaffActionRefused, match="propre compte"):
        accounts.deactivate(account=ada, actor=ada)
    with pytest.raises(StaffActionRefused, match="propre compte"):
        accounts.change_role(account=ada, role="gestion", actor=ada)


def test_deactivation_ends_access_and_withdraws_pending_requests(ada, alan, gina):
    approval = accounts.change_role(account=gina, role="dpo", actor=ada)
    accounts.deactivate(account=gina, actor=ada)
    gina.refresh_from_db()
    approval.refresh_from_db()
    assert not gina.is_active and approval.status == ApprovalStatus.CANCELLED
    assert StaffAccount.objects.get(pk=gina.pk).deactivated_at is not None
    assert not gina.has_perm("members:member:search")


def test_reactivating_a_dpo_needs_a_second_administrator(ada, alan, bob):
    accounts.deactivate(account=bob, actor=ada)
    approval = accounts.reactivate(account=bob, actor=ada)
    bob.refresh_from_db()
    assert not bob.is_active and approval is not None
    approvals.approve(approval=approval, actor=alan, link_for=link_for)
    bob.refresh_from_db()
    assert bob.is_active and StaffAccount.objects.get(pk=bob.pk).deactivated_at is None


def test_a_request_expires_after_a_week(ada, alan, gina):
    with time_machine.travel(NOW, tick=False) as traveller:
        approval = accounts.change_role(account=gina, role="dpo", actor=ada)
        traveller.shift(datetime.timedelta(days=7) - datetime.timedelta(seconds=1))
        assert approvals.expire_overdue() == 0
        traveller.shift(datetime.timedelta(seconds=1))
        with pytest.raises(StaffActionRefused, match="expiré"):
            approvals.approve(approval=approval, actor=alan, link_for=link_for)
        assert approvals.expire_overdue() == 1
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.EXPIRED


def test_a_rejected_request_is_never_applied(ada, alan, gina):
    approval = accounts.change_role(account=gina, role="admin", actor=ada)
    approvals.reject(approval=approval, actor=alan)
    with pytest.raises(StaffActionRefused, match="déjà été traitée"):
        approvals.approve(approval=approval, actor=alan, link_for=link_for)
    gina.refresh_from_db()
    assert gina.role == "gestion"
    assert Approval.objects.get(pk=approval.pk).status == ApprovalStatus.REJECTED


def test_a_departed_account_is_anonymised_six_months_after_its_departure(ada, gina):
    with time_machine.travel(NOW, tick=False) as traveller:
        accounts.deactivate(account=gina, actor=ada)
        # Six calendar months later, to the second, in French time (4 May → 4 November).
        traveller.move_to(datetime.datetime(2026, 11, 4, 10, 0, tzinfo=PARIS))
        retention.enforce(only_app="staff")
        gina.refresh_from_db()
        assert gina.email == "gina@mutuelle.example"
        traveller.shift(datetime.timedelta(seconds=1))
        retention.enforce(only_app="staff")
    gina.refresh_from_db()
    assert gina.email == f"personnel-{gina.pk}@{accounts.ANONYMOUS_DOMAIN}"
    assert gina.display_name == "" and not gina.has_usable_password()
    assert StaffAccount.objects.get(pk=gina.pk).anonymised_at is not None
    assert Event.objects.filter(tag=StaffTag.ANONYMISE).exists()


def test_a_legal_hold_keeps_a_departed_account(ada, bob, gina):
    with time_machine.travel(NOW, tick=False) as traveller:
        accounts.deactivate(account=gina, actor=ada)
        holds.place_hold(reason="Enquête", actor=bob, target=StaffAccount.objects.get(pk=gina.pk))
        traveller.shift(datetime.timedelta(days=400))
        retention.enforce(only_app="staff")
    gina.refresh_from_db()
    assert gina.email == "gina@mutuelle.example"


def test_an_active_account_is_never_anonymised(ada, gina):
    with time_machine.travel(NOW + datetime.timedelta(days=3650), tick=False):
        retention.enforce(only_app="staff")
    gina.refresh_from_db()
    assert gina.email == "gina@mutuelle.example"
