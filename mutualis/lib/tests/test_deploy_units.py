"""The systemd units under ``deploy/`` start commands that exist, with arguments they take."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
MANAGE = re.compile(r"manage\.py\s+(.+?)(?:'|$)")


def _exec_lines(unit: Path) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]


UNITS = sorted(DEPLOY.glob("*.service"))


def test_there_are_units_to_check():
    assert len(UNITS) >= 8


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_starts_a_command_that_exists_with_arguments_it_accepts(unit):
    commands = get_commands()
    for line in _exec_lines(unit):
        if "gunicorn" in line:
            assert "mutualis.wsgi" in line
            continue
        match = MANAGE.search(line)
        assert match, f"{unit.name}: {line}"
        name, *args = shlex.split(match.group(1).replace("$(date +%%F)", "2026-01-01"))
        assert name in commands, f"{unit.name}: no command {name}"
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        parser.parse_args(args)  # exits (SystemExit) on an argument the command does not take
        assert "EnvironmentFile=/etc/mutualis/mutualis.env" in unit.read_text()


@pytest.mark.parametrize("timer", sorted(DEPLOY.glob("*.timer")), ids=lambda p: p.name)
def test_each_timer_has_its_service(timer):
    assert timer.with_suffix(".service").exists()
    assert "OnCalendar=" in timer.read_text()
