from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "mutualis.rights"
    label = "rights"
    verbose_name = "Exercice des droits"
