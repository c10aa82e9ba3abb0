import pytest
from django.core.management import CommandError, call_command

from mutualis.members.models import User

pytestmark = pytest.mark.django_db


def test_the_first_administrator_is_invited_from_the_command_line(
    smtp_server, django_capture_on_commit_callbacks, capsys
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "invite_staff",
            "premiere@mutuelle.example",
            "--name",
            "Première Admin",
            "--role",
            "admin",
        )
    account = User.objects.get(email="premiere@mutuelle.example")
    assert account.role == "admin" and not account.has_usable_password()
    assert "/gestion/invitation/" in smtp_server.messages[0].body


def test_once_an_administrator_exists_privileged_roles_go_through_the_back_office(ada):
    with pytest.raises(CommandError, match="second administrateur"):
        call_command("invite_staff", "x@mutuelle.example", "--name", "X", "--role", "dpo")


def test_a_bad_address_is_refused_in_french():
    with pytest.raises(CommandError, match="invalide"):
        call_command("invite_staff", "pas-une-adresse", "--name", "X", "--role", "gestion")
