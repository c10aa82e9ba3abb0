from __future__ import annotations

import json
import logging
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from mutualis.lib.env import env_bool, env_int, env_list, env_secret
from mutualis.lib.logging import JsonFormatter, RedactPersonalDataFilter, redact


def test_env_bool_accepts_usual_spellings_and_refuses_others(monkeypatch):
    monkeypatch.setenv("X", "yes")
    assert env_bool("X") is True
    monkeypatch.setenv("X", "0")
    assert env_bool("X", default=True) is False
    monkeypatch.setenv("X", "peut-être")
    with pytest.raises(ImproperlyConfigured, match="X must be a boolean"):
        env_bool("X")


def test_env_int_refuses_a_non_integer(monkeypatch):
    monkeypatch.setenv("N", "12a")
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 3)
    monkeypatch.delenv("N")
    assert env_int("N", 3) == 3


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_env_secret_reads_a_file_and_refuses_both_forms(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("TOKEN_FILE", str(secret))
    assert env_secret("TOKEN") == "s3cret"
    monkeypatch.setenv("TOKEN", "other")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("TOKEN")
    monkeypatch.delenv("TOKEN")
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_secret("TOKEN")


@pytest.mark.parametrize(
    "text",
    [
        "nir=295109912611193",
        "nir 2 95 10 99 126 111 93",
        "corse 253072B07300470",
        "iban FR7630006000011234567890189",
        "iban fr76 3000 6000 0112 3456 7890 189",
    ],
)
def test_log_lines_never_carry_a_nir_or_an_iban(text):
    cleaned = redact(text)
    assert not any(ch.isdigit() for ch in cleaned.split(" ", 1)[1].replace("[", ""))


def test_the_json_formatter_writes_one_redacted_object_per_line():
    record = logging.LogRecord(
        "mutualis", logging.INFO, __file__, 1, "NIR %s", ("295109912611193",), None
    )
    RedactPersonalDataFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "NIR [NIR masqué]"
    assert entry["level"] == "INFO"


def test_a_temporary_directory_goes_with_the_process_that_made_it_not_with_a_fork():
    import subprocess
    import sys

    script = (
        "import os, sys\n"
        "from mutualis.lib.env import temporary_directory\n"
        "path = temporary_directory('mutualis-test-')\n"
        "open(os.path.join(path, 'f'), 'w').close()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    sys.exit(0)\n"  # a forked worker exits: the directory stays
        "os.waitpid(child, 0)\n"
        "print(path, os.path.exists(os.path.join(path, 'f')))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    path, kept_after_fork = done.stdout.split()
    assert kept_after_fork == "True"
    assert not os.path.exists(path), "removed when its own process ended"


def test_a_temporary_directory_left_by_a_killed_process_goes_with_the_next_one():
    import signal
    import subprocess
    import sys

    # Killed by a signal, a process runs no exit handler: its directory stays behind…
    script = (
        "import os, sys, time\n"
        "from mutualis.lib.env import temporary_directory\n"
        "print(temporary_directory('mutualis-test-orphan-'), flush=True)\n"
        "time.sleep(60)\n"
    )
    killed = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    orphan = killed.stdout.readline().strip()
    killed.send_signal(signal.SIGTERM)
    killed.wait(timeout=60)
    killed.stdout.close()
    assert os.path.isdir(orphan)

    # …while one of a process still running is kept: the sweep asks the process, not the age.
    from mutualis.lib.env import temporary_directory

    ours = temporary_directory("mutualis-test-orphan-")
    assert not os.path.exists(orphan), "the next directory of the same kind removed it"
    assert os.path.isdir(ours)
    assert temporary_directory("mutualis-test-orphan-") != ours
    assert os.path.isdir(ours), "its process (this one) still runs"
