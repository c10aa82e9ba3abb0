"""Two administrators deactivating each other at the same moment: one succeeds, the other is
refused, and the mutuelle keeps an administrator (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from mutualis.members.models import User
from mutualis.staff import accounts
from mutualis.staff.errors import StaffActionRefused
from mutualis.staff.tests.conftest import make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_administrators_removing_each_other_leave_one_administrator():
    ada = make_staff("admin", "ada@mutuelle.example")
    alan = make_staff("admin", "alan@mutuelle.example")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(account, actor):
        start.wait()
        try:
            accounts.deactivate(account=account, actor=actor)
            outcomes.append("done")
        except StaffActionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=remove, args=(alan, ada)),
        threading.Thread(target=remove, args=(ada, alan)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "refused"]
    assert User.objects.filter(role="admin", is_active=True).count() == 1
