#!/usr/bin/env python
"""Django's command-line utility for administrative tasks, speaking French (mutualis.lib.cli)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualis.settings")
    from django.core.management import execute_from_command_line

    from mutualis.lib import cli

    cli.install()  # argument errors in French
    try:
        execute_from_command_line(sys.argv)
    except OSError as exc:  # a file or a server the command needs: one French line
        sys.stderr.write(f"Erreur : {cli.os_error(exc)}.\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
