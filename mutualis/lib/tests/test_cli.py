"""manage.py speaks French: argument errors and system errors."""

from __future__ import annotations

import argparse
import errno
import inspect
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from mutualis.lib import cli, french

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "1", "MUTUALIS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, check=False
    )


def test_every_translated_message_is_one_argparse_still_writes():
    """Fails loudly when a Python upgrade rewords a message (then update the catalogue)."""
    source = inspect.getsource(argparse)
    for english in [*cli.MESSAGES, *cli.PLURALS]:
        assert repr(english)[1:-1] in source or english in source, english


def test_every_option_django_gives_a_command_has_its_help_translated():
    """Fails loudly when a Django upgrade rewords or adds an option (then update DJANGO_HELP)."""
    from django.core.management.base import BaseCommand

    create = getattr(BaseCommand.create_parser, "__wrapped__", BaseCommand.create_parser)
    parser = create(BaseCommand(), "manage.py", "commande")
    english = {a.help for a in parser._actions} - {None, argparse.SUPPRESS}
    assert set(cli.DJANGO_HELP) <= english
    assert english - set(cli.DJANGO_HELP) == {"show this help message and exit"}  # argparse's


def test_every_option_of_the_projects_commands_is_explained():
    from django.core.management import get_commands, load_command_class

    missing = []
    for name, app in sorted(get_commands().items()):
        if not app.startswith("mutualis."):
            continue
        command = load_command_class(app, name)
        if not command.help:
            missing.append(f"{name}: no help")
        for action in command.create_parser("manage.py", name)._actions:
            if not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "\n".join(missing)


def test_the_help_of_privacy_check_is_in_french(tmp_path):
    result = run("privacy_check", "--help", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    help_text = french.plain(result.stdout)
    for english in (*cli.DJANGO_HELP, "Verbosity", "Show program", "Skip system", "show this"):
        assert english not in help_text, english
    for french_text in (
        "utilisation : manage.py privacy_check",
        "afficher cette aide et quitter",
        "--as-of AAAA-MM-JJ",
        "table (par défaut) ou json",
        "niveau de détail",
        "ne pas lancer les vérifications du système",
    ):
        assert french_text in " ".join(help_text.split()), french_text
    # French typography: a wrapped line never starts with a colon or a semicolon.
    assert not any(line.lstrip().startswith((":", ";")) for line in result.stdout.splitlines())


def test_a_missing_argument_is_explained_in_french(tmp_path):
    result = run("import_members", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "utilisation : manage.py import_members" in result.stderr
    assert "erreur : arguments obligatoires manquants : file" in result.stderr
    assert "required" not in result.stderr


def test_an_invalid_number_or_choice_is_explained_in_french(tmp_path):
    result = run("import_members", "x.csv", "--batch-size", "abc", tmp_path=tmp_path)
    assert "argument --batch-size : nombre entier invalide : 'abc'" in result.stderr
    result = run("privacy_check", "--format", "xml", tmp_path=tmp_path)
    assert "choix invalide : 'xml' (choisir parmi 'table', 'json')" in result.stderr


def test_system_errors_are_one_french_line():
    exc = FileNotFoundError(errno.ENOENT, "No such file or directory", "/sauvegardes/a.bak")
    assert cli.os_error(exc) == "/sauvegardes/a.bak : fichier ou dossier introuvable"
    assert cli.os_error(OSError(errno.ENOSPC, "No space left on device")) == (
        "plus de place sur le disque"
    )
