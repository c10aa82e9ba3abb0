"""Small, strict parsers for settings read from environment variables.

Each helper fails loudly (``ImproperlyConfigured``) on a value it cannot parse, so a typo in a
deployment never silently falls back to a default.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``.

    Setting both is an error: it is never clear which one the operator meant.
    """
    direct = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if direct and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {path!r} ({exc.strerror})."
            ) from None
    return direct.strip() if direct else None


def temporary_directory(prefix: str) -> str:
    """A new private directory, removed with its files when this process exits (not when a
    process forked from it does: a server's workers share their parent's).

    A process killed by a signal runs no exit handler: its directory stays. The process id is
    part of the name, so the next call with the same prefix removes those whose process is gone.
    """
    owner = os.getpid()
    _remove_orphans(prefix)
    path = tempfile.mkdtemp(prefix=f"{prefix}{owner}-")

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


def _remove_orphans(prefix: str) -> None:
    """Remove this user's ``<prefix><pid>-…`` directories whose process no longer runs."""
    for entry in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = entry.name[len(prefix) :].partition("-")[0]
        try:
            if not pid.isdigit() or entry.lstat().st_uid != os.getuid() or not entry.is_dir():
                continue
            os.kill(int(pid), 0)  # no signal sent: only asks whether the process exists
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # gone meanwhile, or a process of another user: not ours to judge
            continue
