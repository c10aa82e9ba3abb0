from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "mutualis.privacy"
    label = "privacy"
    verbose_name = "Déclaration de confidentialité"
