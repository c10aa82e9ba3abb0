"""Load the demo data (idempotent) and print the demo logins.

Each app may ship a ``demo.py`` module with a ``load() -> list[DemoLogin]`` function; this command
runs them in app order, inside one transaction, so a second run changes nothing.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from mutualis.audit.sequencer import sequence_all
from mutualis.contracts import terms
from mutualis.lib import devmail
from mutualis.lib.demo import DemoLogin, site_url
from mutualis.privacy import policy


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les accès de démonstration."

    def handle(self, *args, **options) -> None:
        logins: list[DemoLogin] = []
        with transaction.atomic():
            version, created = policy.publish()
            terms.publish_cgu()
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
        out.write(f"Mutualis — démonstration prête : {site_url()}")
        if logins:
            out.write("  Accès de démonstration :")
            for login in logins:
                out.write(f"    - {login}")
        else:
            out.write("  Accès de démonstration : aucun compte à ce stade.")
        if settings.EMAIL_BACKEND == "mutualis.lib.devmail.EmailBackend":
            out.write(
                f"  Courriels envoyés (activation, réponses, avis) : {devmail.mail_dir()}/ "
                "— un fichier .eml par message, lisible dans un éditeur de texte"
            )
        out.write(
            f"  Politique de confidentialité ({state}, version du "
            f"{version.effective_date:%d/%m/%Y}) : {site_url('/confidentialite/')}"
        )
        out.write("")
