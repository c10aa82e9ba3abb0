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

from mutualis.lib import cli

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
