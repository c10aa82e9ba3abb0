from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "mutualis.audience"
    label = "audience"
    verbose_name = "Mesure d'audience"
