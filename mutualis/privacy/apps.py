from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PrivacyConfig(AppConfig):
    name = "mutualis.privacy"
    label = "privacy"
    verbose_name = "Déclaration de confidentialité"

    def ready(self) -> None:
        # Every app's privacy.py registers its declarations; then the checks can verify them.
        autodiscover_modules("privacy")
        from mutualis.privacy import (
            checks,  # noqa: F401  (registers the system checks)
            promise_checks,  # noqa: F401  (the ground's promises)
        )
