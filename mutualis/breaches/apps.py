from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "mutualis.breaches"
    label = "breaches"
    verbose_name = "Registre des violations de données"
