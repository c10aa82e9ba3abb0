"""Periodic jobs run once at a time, however many hosts start them.

Several job hosts share one PostgreSQL: a cron line or a timer present on two of them starts the
same job twice at once. :class:`JobCommand` makes the second one see the first (a PostgreSQL
advisory lock, held by the first run's connection for as long as it runs) and step aside with a
message, so the end state is that of one run and no work is done twice. On SQLite (one host) a
lock file under ``MUTUALIS_VAR_DIR`` does the same between processes.

The jobs themselves stay idempotent and resumable: the lock only spares the duplicate work.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, OutputWrapper
from django.db import connection


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(f"mutualis.job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def exclusive_job(name: str) -> Iterator[bool]:
    """Yields True while this process holds the job ``name``, False when another one does."""
    if connection.vendor == "postgresql":
        key = _lock_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with file_lock(name) as acquired:
        yield acquired


@contextmanager
def file_lock(name: str) -> Iterator[bool]:
    """The lock of one host: a file under ``MUTUALIS_VAR_DIR`` (SQLite's case)."""
    directory = Path(getattr(settings, "VAR_DIR", "var"))
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"job-{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class JobCommand(BaseCommand):
    """A management command that is a periodic job: one run at a time across all hosts."""

    job_name = ""  # defaults to the command's name

    def execute(self, *args: Any, **options: Any) -> Any:
        name = self.job_name or self.__module__.rsplit(".", 1)[-1]
        with exclusive_job(name) as acquired:
            if not acquired:
                if options.get("stdout"):  # as BaseCommand.execute would set it
                    self.stdout = OutputWrapper(options["stdout"])
                self.stdout.write(
                    f"{name} est déjà en cours (sur cet hôte ou un autre) : cette exécution "
                    "s'arrête sans rien faire."
                )
                return None
            return super().execute(*args, **options)
