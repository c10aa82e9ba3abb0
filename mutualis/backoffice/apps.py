from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "mutualis.backoffice"
    label = "backoffice"
    verbose_name = "Gestion interne"
