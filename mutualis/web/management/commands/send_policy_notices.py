"""Tell every member of the policy version in force, once, by e-mail with what changed.

A command of the public site because the e-mail links to its page of the changes; the work is
``contracts.terms.send_policy_notices`` (batch-wise, idempotent, safe on several hosts).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.urls import reverse

from mutualis.contracts import terms
from mutualis.lib.jobs import JobCommand


def changes_link(version) -> str:
    path = reverse("web:policy-changes", args=[version.slug])
    return settings.MUTUALIS_SITE_URL.rstrip("/") + path


class Command(JobCommand):
    help = (
        "Envoie à chaque adhérent, une seule fois, l'avis de la nouvelle politique de "
        "confidentialité avec ce qui a changé (idempotent, par lots)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="adhérents par lot")

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size doit être un entier positif.")
        version, sent = terms.send_policy_notices(link=changes_link, batch_size=batch_size)
        if version is None:
            self.stdout.write("Aucune politique publiée : aucun avis à envoyer.")
            return
        self.stdout.write(
            f"Politique du {version.effective_date:%d/%m/%Y} : {sent} avis envoyé"
            f"{'s' if sent > 1 else ''}."
        )
