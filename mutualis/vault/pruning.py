"""Pruning old backups: files of ``manage.py backup`` and ``backup_keys`` older than the declared
backup retention (``privacy.catalogue.RETENTION_BACKUPS``) are deleted.

What a backup holds outlives the database by as long as the backup is kept; the e-mail rule is
sized so that, with this pruning, no e-mail body outlives the three months the policy promises
(promise T1). A file's age is the creation time written in its header (``created_at``), or its
modification time when the header cannot be read; only Mutualis backup files are ever touched.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from mutualis import audit
from mutualis.lib.dates import add_months
from mutualis.privacy.catalogue import RETENTION_BACKUPS
from mutualis.vault.backup_file import _LENGTH, MAGIC, MAX_HEADER_BYTES
from mutualis.vault.tags import VaultTag


@dataclass(frozen=True)
class BackupFile:
    path: Path
    created_at: datetime.datetime
    kind: str


def oldest_allowed(now: datetime.datetime) -> datetime.datetime:
    """Backups created before this moment are past their retention."""
    local = timezone.localtime(now)
    day = add_months(local.date(), -RETENTION_BACKUPS.months) - datetime.timedelta(
        days=RETENTION_BACKUPS.days
    )
    return local.replace(year=day.year, month=day.month, day=day.day)


def _header(path: Path) -> dict | None:
    try:
        with path.open("rb") as stream:
            start = stream.read(len(MAGIC) + _LENGTH.size)
            if len(start) < len(MAGIC) + _LENGTH.size or start[: len(MAGIC)] != MAGIC:
                return None
            (length,) = _LENGTH.unpack(start[len(MAGIC) :])
            if length > MAX_HEADER_BYTES:
                return {}
            header = json.loads(stream.read(length))
    except (OSError, ValueError):
        return {}
    return header if isinstance(header, dict) else {}


def backup_files(directory: Path) -> list[BackupFile]:
    """The Mutualis backup files directly in ``directory``, oldest first."""
    found = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        header = _header(path)
        if header is None:
            continue  # not a backup of ours: never touched
        try:
            created = datetime.datetime.fromisoformat(str(header["created_at"]))
        except (KeyError, ValueError):
            created = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
        if timezone.is_naive(created):
            created = timezone.make_aware(created, datetime.UTC)
        found.append(BackupFile(path, created, str(header.get("kind", ""))))
    return sorted(found, key=lambda b: b.created_at)


def expired(directory: Path, now: datetime.datetime | None = None) -> list[BackupFile]:
    bound = oldest_allowed(now or timezone.now())
    return [b for b in backup_files(directory) if b.created_at < bound]


def prune(directory: Path, *, now: datetime.datetime | None = None, dry_run: bool = False):
    """Delete the backups past their retention; returns those deleted (or, dry, to delete)."""
    if not directory.is_dir():
        raise FileNotFoundError(directory)
    now = now or timezone.now()
    old = expired(directory, now)
    if dry_run:
        return old
    for backup in old:
        backup.path.unlink(missing_ok=True)
    with transaction.atomic():
        audit.record(
            VaultTag.BACKUP_PRUNE,
            details={
                "deleted": len(old),
                "before": oldest_allowed(now).isoformat(),
                "retention_days": RETENTION_BACKUPS.days,
            },
        )
    return old
