from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "mutualis.consent"
    label = "consent"
    verbose_name = "Préférences et consentements"
