"""Load the demo data (idempotent) and print the demo logins.

Each app may ship a ``demo.py`` module with a ``load() -> list[DemoLogin]`` function; this command
runs them in app order, inside one transaction, so a second run changes nothing.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from mutualis.audit.sequencer import sequence_all
from mutualis.lib.demo import DemoLogin
from mutualis.privacy import policy


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les accès de démonstration."

    def handle(self, *args, **options) -> None:
        logins: list[DemoLogin] = []
        with transaction.atomic():
            version, created = policy.publish()
            for app_config in apps.get_app_configs():
                if not app_config.name.startswith("mutualis."):
                    continue
                try:
                    module = import_module(f"{app_config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app_config.name}.demo":
                        raise
                    continue
                logins.extend(module.load())
        # The demo's audit events take their place in the chain at once, so the DPO's audit log
        # shows their numbers before the sequencer service has run.
        sequence_all()
        state = "publiée" if created else "déjà en vigueur"
        out = self.stdout
        out.write("")
        out.write("Mutualis — démonstration prête")
        out.write("  Site : http://127.0.0.1:8000/")
        out.write(
            f"  Politique de confidentialité ({state}, version du "
            f"{version.effective_date:%d/%m/%Y}) : http://127.0.0.1:8000/confidentialite/"
        )
        if logins:
            out.write("  Accès de démonstration :")
            for login in logins:
                out.write(f"    - {login}")
        else:
            out.write("  Accès de démonstration : aucun compte à ce stade.")
        out.write("")
