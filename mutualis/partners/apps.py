from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "mutualis.partners"
    label = "partners"
    verbose_name = "API des destinataires extérieurs"
