"""WSGI entry point (gunicorn mutualis.wsgi).

Before serving, the process runs the system checks and refuses to start on any error, so a
production server never runs without its secret key or master key.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualis.settings")
application = get_wsgi_application()


def _refuse_unsafe_start() -> None:
    from django.core import checks

    errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.is_serious()]
    if errors:
        lines = "\n".join(f"  {m.id}: {m.msg} {m.hint or ''}" for m in errors)
        raise SystemExit(f"Mutualis refuses to start:\n{lines}")


_refuse_unsafe_start()
